package dev.nixek.ci.e2e.ec2;

import dev.nixek.ci.operator.testing.Ec2TestEnv;

import dev.nixek.ci.operator.testing.TestImages;

import dev.nixek.ci.operator.aws.Ec2Tags;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import dev.nixek.ci.testing.aws.ec2.Machine;
import dev.nixek.ci.testing.aws.ec2.Views.InstanceView;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.services.ec2.Ec2Client;

/** {@link FakeEc2}: its launch hook boots an {@link AgentGuest}; a guest poweroff ends the instance. */
final class FakeEc2Side implements Ec2Side {
  private final FakeEc2 fake;
  private final Ec2Client sdk;
  private final String imageId;
  private final Set<String> noAgent = ConcurrentHashMap.newKeySet();
  private final Set<String> slowShutdown = ConcurrentHashMap.newKeySet();
  private final Map<String, AgentGuest> guests = new ConcurrentHashMap<>();

  /** {@code namespace}: the jobs' and the image's (the trust domain is part of the AMI name looked up). */
  FakeEc2Side(Path work, String namespace) {
    fake = FakeEc2.builder().pending(1, Duration.ofMillis(100)).shuttingDown(1, Duration.ofMillis(100)).start();
    sdk = fake.ec2Client();
    imageId = fake.seedImage(TestImages.amiName(Ec2TestEnv.operatorEnv(URI.create("http://unused"), "unused"),
        namespace), fake.seedSnapshot(4, Map.of()), Map.of());
    fake.onLaunch(instance -> {
      if (noAgent.contains(instance.tags().getOrDefault(Ec2Tags.JOB_NAME, ""))) {
        return Machine.none();
      }
      AgentGuest guest = AgentGuest.boot(instance.instanceId(), instance.userData(),
          work.resolve("guests").resolve(instance.instanceId()),
          slowShutdown.contains(instance.tags().getOrDefault(Ec2Tags.JOB_NAME, "")), instance::powerOff);
      guests.put(instance.instanceId(), guest);
      return guest;
    });
  }

  @Override
  public String name() {
    return "fake-ec2";
  }

  @Override
  public URI endpoint() {
    return fake.endpoint();
  }

  @Override
  public String imageId() {
    return imageId;
  }

  @Override
  public Map<String, String> operatorEnv() {
    return Map.of("NIXEK_EC2_SUBNETS", "subnet-0a01,subnet-0b02", "NIXEK_EC2_SECURITY_GROUPS", "sg-0c03",
        "NIXEK_EC2_INSTANCE_PROFILE", "nixek-ci-job");
  }

  @Override
  public List<Instance> instancesOfJob(String jobUid) {
    return fake.instances().stream().filter(i -> jobUid.equals(i.tags().get(Ec2Tags.JOB_UID)))
        .map(FakeEc2Side::toInstance).toList();
  }

  @Override
  public Optional<Instance> instance(String id) {
    return fake.instance(id).map(FakeEc2Side::toInstance);
  }

  private static Instance toInstance(InstanceView i) {
    return new Instance(i.instanceId(), i.state().label(), i.tags(), i.clientToken(), i.httpTokens(),
        i.httpPutResponseHopLimit(), i.shutdownBehavior());
  }

  @Override
  public void terminateExternally(String id) {
    sdk.terminateInstances(r -> r.instanceIds(id));
  }

  @Override
  public String launchForeign(String clusterId, String jobUid) {
    noAgent.add(FOREIGN);
    return Ec2Side.launchForeign(sdk, imageId, clusterId, jobUid);
  }

  @Override
  public void noAgentFor(String jobName) {
    noAgent.add(jobName);
  }

  @Override
  public void slowShutdownFor(String jobName) {
    slowShutdown.add(jobName);
  }

  @Override
  public void guestPoweroffFails(boolean fails) {
    fake.guestPoweroffFails(fails);
  }

  @Override
  public Optional<AgentGuest> guest(String instanceId) {
    return Optional.ofNullable(guests.get(instanceId));
  }

  @Override
  public void close() {
    guests.values().forEach(AgentGuest::kill);
    sdk.close();
    fake.close();
  }
}
