package dev.nixek.ci.e2e.ec2;

import dev.nixek.ci.operator.testing.Ec2TestEnv;

import dev.nixek.ci.operator.testing.TestImages;

import dev.nixek.ci.operator.aws.Ec2Tags;
import dev.nixek.ci.testing.aws.moto.MotoServer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.ArchitectureValues;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.InstanceAttributeName;
import software.amazon.awssdk.services.ec2.model.Tag;

/**
 * moto (a third-party EC2 emulator) as the endpoint. moto has no guests: a poller plays the hypervisor, booting an
 * {@link AgentGuest} for each running instance from the user-data moto returns (DescribeInstanceAttribute), and
 * turning a guest poweroff into what EC2 does with the instance's InstanceInitiatedShutdownBehavior (terminate, or
 * stop).
 */
final class MotoSide implements Ec2Side {
  private static final Logger LOG = LoggerFactory.getLogger(MotoSide.class);

  private final MotoServer moto;
  private final Ec2Client sdk;
  private final Path work;
  private final String imageId;
  private final List<String> subnets;
  private final String securityGroup;
  private final Set<String> noAgent = ConcurrentHashMap.newKeySet();
  private final Set<String> slowShutdown = ConcurrentHashMap.newKeySet();
  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private final Map<String, AgentGuest> guests = new ConcurrentHashMap<>();
  private volatile boolean poweroffFails;
  private final ScheduledExecutorService hypervisor = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "moto-hypervisor");
    t.setDaemon(true);
    return t;
  });

  @SuppressWarnings("unchecked")
  MotoSide(Path work, String namespace) {
    this.work = work;
    moto = MotoServer.start();
    sdk = moto.ec2Client();
    String vol = sdk.createVolume(r -> r.availabilityZone("us-east-1a").size(4)).volumeId();
    String snap = sdk.createSnapshot(r -> r.volumeId(vol)).snapshotId();
    imageId = sdk.registerImage(r -> r.name(TestImages.amiName(Ec2TestEnv.operatorEnv(URI.create("http://unused"), "unused"), namespace)).architecture(ArchitectureValues.X86_64)
        .rootDeviceName("/dev/xvda").virtualizationType("hvm")
        .blockDeviceMappings(b -> b.deviceName("/dev/xvda").ebs(e -> e.snapshotId(snap).volumeSize(4)))).imageId();
    subnets = sdk.describeSubnets().subnets().stream().map(s -> s.subnetId()).sorted().limit(2).toList();
    securityGroup = sdk.describeSecurityGroups(r -> r.groupNames("default")).securityGroups().get(0).groupId();
    hypervisor.scheduleWithFixedDelay(this::tick, 200, 200, TimeUnit.MILLISECONDS);
  }

  private void tick() {
    try {
      var reservations = sdk.describeInstances(r -> r.filters(
          Filter.builder().name("tag:" + Ec2Tags.MANAGED_BY).values(Ec2Tags.MANAGED_BY_VALUE).build())).reservations();
      for (var res : reservations) {
        for (var i : res.instances()) {
          String state = i.state().nameAsString();
          if (state.equals("running") && seen.add(i.instanceId())) {
            boot(i.instanceId(), i.tags().stream().filter(t -> t.key().equals(Ec2Tags.JOB_NAME)).map(Tag::value)
                .findFirst().orElse(""));
          } else if (!state.equals("running") && !state.equals("pending")) {
            AgentGuest g = guests.get(i.instanceId());
            if (g != null && g.running()) {
              g.stop();
            }
          }
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("moto hypervisor tick failed: {}", e.toString());
    }
  }

  private void boot(String id, String jobName) {
    if (noAgent.contains(jobName)) {
      return;
    }
    try {
      String b64 = sdk.describeInstanceAttribute(r -> r.instanceId(id).attribute(InstanceAttributeName.USER_DATA))
          .userData().value();
      String userData = new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
      guests.put(id, AgentGuest.boot(id, userData, work.resolve("guests").resolve(id),
          slowShutdown.contains(jobName), () -> powerOff(id)));
    } catch (Exception e) {
      LOG.warn("could not boot a guest for {}: {}", id, e.toString());
    }
  }

  /** What EC2 does when the guest shuts down: the instance's shutdown behaviour decides. */
  private void powerOff(String id) {
    if (poweroffFails) {
      LOG.info("guest {} poweroff lost (test)", id);
      return;
    }
    String behaviour = sdk.describeInstanceAttribute(r -> r.instanceId(id)
        .attribute(InstanceAttributeName.INSTANCE_INITIATED_SHUTDOWN_BEHAVIOR))
        .instanceInitiatedShutdownBehavior().value();
    if ("terminate".equals(behaviour)) {
      sdk.terminateInstances(r -> r.instanceIds(id));
    } else {
      sdk.stopInstances(r -> r.instanceIds(id));
    }
  }

  @Override
  public String name() {
    return "moto";
  }

  @Override
  public URI endpoint() {
    return moto.endpoint();
  }

  @Override
  public String imageId() {
    return imageId;
  }

  @Override
  public Map<String, String> operatorEnv() {
    // moto checks that an instance profile exists: none is used here
    return Map.of("NIXEK_EC2_SUBNETS", String.join(",", subnets), "NIXEK_EC2_SECURITY_GROUPS", securityGroup);
  }

  @Override
  public List<Instance> instancesOfJob(String jobUid) {
    return sdk.describeInstances(r -> r.filters(Filter.builder().name("tag:" + Ec2Tags.JOB_UID).values(jobUid)
        .build())).reservations().stream().flatMap(r -> r.instances().stream()).map(MotoSide::toInstance).toList();
  }

  @Override
  public Optional<Instance> instance(String id) {
    return sdk.describeInstances(r -> r.instanceIds(id)).reservations().stream()
        .flatMap(r -> r.instances().stream()).findFirst().map(MotoSide::toInstance);
  }

  private static Instance toInstance(software.amazon.awssdk.services.ec2.model.Instance i) {
    Map<String, String> tags = new java.util.HashMap<>();
    i.tags().forEach(t -> tags.put(t.key(), t.value()));
    var md = i.metadataOptions();
    return new Instance(i.instanceId(), i.state().nameAsString(), tags, i.clientToken(),
        md == null ? null : md.httpTokensAsString(), md == null ? null : md.httpPutResponseHopLimit(), null);
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
    poweroffFails = fails;
  }

  @Override
  public Optional<AgentGuest> guest(String instanceId) {
    return Optional.ofNullable(guests.get(instanceId));
  }

  @Override
  public void close() {
    hypervisor.shutdownNow();
    guests.values().forEach(AgentGuest::kill);
    sdk.close();
    moto.close();
  }
}
