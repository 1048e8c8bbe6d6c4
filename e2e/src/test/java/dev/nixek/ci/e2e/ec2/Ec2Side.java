package dev.nixek.ci.e2e.ec2;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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

  /** Guests' poweroff is lost: the instance keeps running after the agent is done. */
  void guestPoweroffFails(boolean fails);

  /** The guest of an instance, once it booted. */
  Optional<AgentGuest> guest(String instanceId);

  @Override
  void close();
}
