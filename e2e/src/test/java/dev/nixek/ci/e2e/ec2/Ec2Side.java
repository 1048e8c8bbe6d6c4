package dev.nixek.ci.e2e.ec2;

import dev.nixek.ci.operator.aws.Ec2Tags;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Tag;

/** The EC2 endpoint of an end-to-end test (the stateful fake, or moto) and the guests it boots. */
interface Ec2Side extends AutoCloseable {
  /** An instance as the endpoint reports it. */
  record Instance(String id, String state, Map<String, String> tags, String clientToken, String httpTokens,
      Integer hopLimit, String shutdownBehavior) {
    boolean terminating() {
      return state.equals("shutting-down") || state.equals("terminated");
    }
  }

  String name();

  URI endpoint();

  /** A registered image jobs can launch from. */
  String imageId();

  /** Operator options this endpoint needs (its subnets, security groups). */
  Map<String, String> operatorEnv();

  /** Every instance tagged with this job uid. */
  List<Instance> instancesOfJob(String jobUid);

  Optional<Instance> instance(String id);

  /** Someone terminates the instance behind the operator's back (a spot interruption, a clean-up script). */
  void terminateExternally(String id);

  /** Launches an instance the operator did not, tagged for {@code clusterId} and job {@code jobUid}. */
  String launchForeign(String clusterId, String jobUid);

  /** Instances of jobs with this name boot without an agent (it never reports). */
  void noAgentFor(String jobName);

  /**
   * Guests of jobs with this name shut down only once their agent exited on its own (bounded): the agent's own
   * poweroff is seen even though the operator terminates the instance as soon as the job ends.
   */
  void slowShutdownFor(String jobName);

  /** Guests' poweroff is lost: the instance keeps running after the agent is done. */
  void guestPoweroffFails(boolean fails);

  /** The guest of an instance, once it booted. */
  Optional<AgentGuest> guest(String instanceId);

  @Override
  void close();

  /** The job name of foreign instances (their guests boot no agent). */
  String FOREIGN = "foreign";

  /** RunInstances as someone else would: tagged for {@code clusterId} and job {@code jobUid}, no ClientToken. */
  @SuppressWarnings("unchecked") // the SDK's Consumer<...>... varargs
  static String launchForeign(Ec2Client sdk, String imageId, String clusterId,
      String jobUid) {
    return sdk.runInstances(r -> r.imageId(imageId).minCount(1).maxCount(1).instanceType("t3.micro")
        .tagSpecifications(t -> t.resourceType(ResourceType.INSTANCE).tags(
            tag(Ec2Tags.CLUSTER_ID, clusterId),
            tag(Ec2Tags.JOB_UID, jobUid),
            tag(Ec2Tags.JOB_NAME, FOREIGN),
            tag(Ec2Tags.MANAGED_BY, Ec2Tags.MANAGED_BY_VALUE))))
        .instances().get(0).instanceId();
  }

  private static Tag tag(String k, String v) {
    return Tag.builder().key(k).value(v).build();
  }
}
