package dev.nixek.ci.operator.machine;

import dev.nixek.ci.protocol.AgentConfig;

/**
 * Everything a provider needs to launch a job's machine. Launching twice with the same {@code launchToken} and the
 * same request yields the same machine (the token is EC2's ClientToken).
 *
 * @param jobUid UID of the job
 * @param namespace the job's namespace
 * @param name the job's name
 * @param launchToken idempotency token of this launch attempt, persisted in the job's status before launching
 * @param imageId the image to boot (an AMI id), or null where the provider needs none
 * @param instanceType the machine size, or null for the provider's default
 * @param agentConfig what the agent on the machine needs; it carries the job's report token
 */
public record LaunchRequest(String jobUid, String namespace, String name, String launchToken, String imageId,
    String instanceType, AgentConfig agentConfig) {
  @Override
  public String toString() {
    return "LaunchRequest[job=" + namespace + "/" + name + " (" + jobUid + "), launchToken=" + launchToken
        + ", imageId=" + imageId + ", instanceType=" + instanceType + "]";
  }
}
