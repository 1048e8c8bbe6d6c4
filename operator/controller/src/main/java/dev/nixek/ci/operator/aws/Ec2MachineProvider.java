package dev.nixek.ci.operator.aws;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.nixek.ci.operator.config.Ec2Options;
import dev.nixek.ci.operator.machine.LaunchException;
import dev.nixek.ci.operator.machine.LaunchRequest;
import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineListener;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.machine.MachineState;
import dev.nixek.ci.protocol.Json;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.HttpTokensState;
import software.amazon.awssdk.services.ec2.model.IamInstanceProfileSpecification;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceInterruptionBehavior;
import software.amazon.awssdk.services.ec2.model.InstanceMarketOptionsRequest;
import software.amazon.awssdk.services.ec2.model.InstanceMetadataEndpointState;
import software.amazon.awssdk.services.ec2.model.InstanceMetadataOptionsRequest;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.MarketType;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.ShutdownBehavior;
import software.amazon.awssdk.services.ec2.model.SpotInstanceType;
import software.amazon.awssdk.services.ec2.model.SpotMarketOptions;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

/**
 * One EC2 instance per job (docs/ec2.md).
 *
 * <p>Every launch is a RunInstances with ClientToken = the job's launch token, which the job reconciler recorded in
 * status before calling: replaying it (after a crash, a lost answer, a 409 on the status write) returns the same
 * instance instead of a second one, as long as every parameter is the same — so everything here is derived from the
 * request and the operator's options only (the subnet from the token, not chosen at random).
 *
 * <p>Spot: a spot launch that EC2 refuses for capacity launched nothing. The provider then asks for an on-demand
 * launch with a <em>different</em> token ({@link #onDemandToken}) via {@link LaunchException.Kind#FALL_BACK}; the
 * reconciler records that token before the on-demand RunInstances, so a crash cannot bring the spot token back to
 * life next to the on-demand instance.
 */
public final class Ec2MachineProvider implements MachineProvider, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Ec2MachineProvider.class);
  /** EC2's limit on user-data, before base64. */
  public static final int USER_DATA_LIMIT = 16384;
  /** The suffix of an on-demand fallback launch token. */
  static final String ON_DEMAND_SUFFIX = "-od";
  private static final int MAX_TAG_VALUE = 256;
  private static final List<String> LIVE_STATES = List.of("pending", "running", "shutting-down", "stopping",
      "stopped");

  private final Ec2Client ec2;
  private final Ec2Options options;
  private final String clusterId;
  private final Runnable close;
  private final InstanceStates states;

  /**
   * The production provider: the EC2 client of {@code aws} for its default region, all instances described once
   * every {@code pollInterval} once {@link #watch} is called; closing it closes {@code aws}.
   */
  public Ec2MachineProvider(AwsClients aws, Ec2Options options, String clusterId, Duration pollInterval,
      Clock clock) {
    this(aws.ec2(aws.defaultRegion()), options, clusterId, aws::close, pollInterval, clock);
  }

  /** With a given EC2 client (tests), which closing the provider closes; polls every 5 s once watched. */
  public Ec2MachineProvider(Ec2Client ec2, Ec2Options options, String clusterId) {
    this(ec2, options, clusterId, Duration.ofSeconds(5), Clock.systemUTC());
  }

  /** With a given EC2 client (tests), which closing the provider closes. */
  public Ec2MachineProvider(Ec2Client ec2, Ec2Options options, String clusterId, Duration pollInterval,
      Clock clock) {
    this(ec2, options, clusterId, ec2::close, pollInterval, clock);
  }

  private Ec2MachineProvider(Ec2Client ec2, Ec2Options options, String clusterId, Runnable close,
      Duration pollInterval, Clock clock) {
    this.ec2 = ec2;
    this.options = options;
    this.clusterId = clusterId;
    this.close = close;
    this.states = new InstanceStates(ec2, clusterId, pollInterval, clock);
  }

  @Override
  public String name() {
    return "ec2";
  }

  @Override
  public boolean requiresImage() {
    return true;
  }

  @Override
  public boolean agentPowersOff() {
    return true;
  }

  @Override
  public Duration notFoundGrace() {
    return options.notFoundGrace();
  }

  /** The token of the on-demand launch that replaces the spot launch {@code launchToken} could not get. */
  public static String onDemandToken(String launchToken) {
    return launchToken + ON_DEMAND_SUFFIX;
  }

  /** Whether this launch asks for spot: spot is on and the token is not an on-demand fallback's. */
  boolean spotFor(String launchToken) {
    return options.spot() && !launchToken.endsWith(ON_DEMAND_SUFFIX);
  }

  /** The subnet of a launch: a function of its token, so every replay asks for the same one. */
  Optional<String> subnetFor(String launchToken) {
    List<String> subnets = options.subnets();
    if (subnets.isEmpty()) {
      return Optional.empty();
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(launchToken.getBytes(StandardCharsets.UTF_8));
      return Optional.of(subnets.get(Math.floorMod(ByteBuffer.wrap(h).getInt(), subnets.size())));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public Machine launch(LaunchRequest request) throws LaunchException {
    RunInstancesRequest run = runRequest(request);
    boolean spot = run.instanceMarketOptions() != null;
    try {
      Instance i = ec2.runInstances(run).instances().get(0);
      LOG.info("RunInstances {} for job {}/{}: {} ({}, {}{})", request.launchToken(), request.namespace(),
          request.name(), i.instanceId(), stateName(i), run.instanceTypeAsString(), spot ? ", spot" : "");
      return toMachine(i);
    } catch (SdkException e) {
      String code = AwsErrors.code(e);
      String what = "RunInstances (ClientToken " + request.launchToken() + "): " + AwsErrors.describe(e);
      if (AwsErrors.IDEMPOTENT_INSTANCE_TERMINATED.equals(code)) {
        throw LaunchException.tokenTerminated(what, e);
      }
      if (spot && AwsErrors.isSpotCapacity(code)) {
        throw LaunchException.fallBack("no spot capacity (" + code + "); falling back to on-demand",
            onDemandToken(request.launchToken()), e);
      }
      if (AwsErrors.IDEMPOTENT_PARAMETER_MISMATCH.equals(code)) {
        throw new LaunchException(what + " — the job's launch changed since its launch token was recorded "
            + "(spec or operator settings); replaying it could launch a second machine", true, e);
      }
      throw new LaunchException(what, AwsErrors.isPermanent(code), e);
    }
  }

  /** The RunInstances request for a launch; the same request for the same launch, always. */
  RunInstancesRequest runRequest(LaunchRequest request) throws LaunchException {
    byte[] userData;
    try {
      userData = Json.mapper().writeValueAsBytes(request.agentConfig());
    } catch (JsonProcessingException e) {
      throw new LaunchException("cannot serialise the agent config: " + e.getOriginalMessage(), true, e);
    }
    if (userData.length > USER_DATA_LIMIT) {
      throw new LaunchException("the job's agent config is " + userData.length + " bytes, over EC2's user-data "
          + "limit of " + USER_DATA_LIMIT + " bytes (16 KB): use fewer or shorter steps and env", true, null);
    }
    if (request.imageId() == null) {
      throw new LaunchException("no image id to launch from", true, null);
    }
    List<Tag> tags = tags(request);
    RunInstancesRequest.Builder b = RunInstancesRequest.builder()
        .clientToken(request.launchToken())
        .imageId(request.imageId())
        .instanceType(request.instanceType() != null ? request.instanceType() : options.instanceType())
        .minCount(1)
        .maxCount(1)
        .userData(Base64.getEncoder().encodeToString(userData))
        .instanceInitiatedShutdownBehavior(ShutdownBehavior.TERMINATE)
        .metadataOptions(InstanceMetadataOptionsRequest.builder()
            .httpEndpoint(InstanceMetadataEndpointState.ENABLED)
            .httpTokens(HttpTokensState.REQUIRED)
            .httpPutResponseHopLimit(1)
            .build())
        .tagSpecifications(
            TagSpecification.builder().resourceType(ResourceType.INSTANCE).tags(tags).build(),
            TagSpecification.builder().resourceType(ResourceType.VOLUME).tags(tags).build());
    subnetFor(request.launchToken()).ifPresent(b::subnetId);
    if (!options.securityGroups().isEmpty()) {
      b.securityGroupIds(options.securityGroups());
    }
    if (!options.instanceProfile().isEmpty()) {
      String p = options.instanceProfile();
      b.iamInstanceProfile(p.startsWith("arn:") ? IamInstanceProfileSpecification.builder().arn(p).build()
          : IamInstanceProfileSpecification.builder().name(p).build());
    }
    if (spotFor(request.launchToken())) {
      b.instanceMarketOptions(InstanceMarketOptionsRequest.builder()
          .marketType(MarketType.SPOT)
          .spotOptions(SpotMarketOptions.builder()
              .spotInstanceType(SpotInstanceType.ONE_TIME)
              .instanceInterruptionBehavior(InstanceInterruptionBehavior.TERMINATE)
              .build())
          .build());
    }
    return b.build();
  }

  private List<Tag> tags(LaunchRequest r) {
    Map<String, String> t = new LinkedHashMap<>();
    t.put(Ec2Tags.NAME, truncate("nixek " + r.namespace() + "/" + r.name()));
    t.put(Ec2Tags.JOB_UID, r.jobUid());
    t.put(Ec2Tags.JOB_NAMESPACE, r.namespace());
    t.put(Ec2Tags.JOB_NAME, truncate(r.name()));
    t.put(Ec2Tags.CLUSTER_ID, clusterId);
    t.put(Ec2Tags.MANAGED_BY, Ec2Tags.MANAGED_BY_VALUE);
    List<Tag> out = new ArrayList<>();
    t.forEach((k, v) -> out.add(Tag.builder().key(k).value(v).build()));
    return out;
  }

  private static String truncate(String s) {
    return s.length() <= MAX_TAG_VALUE ? s : s.substring(0, MAX_TAG_VALUE);
  }

  /** From then on all instances are described once per poll interval, and {@link #describe} answers from that. */
  @Override
  public void watch(MachineListener listener) {
    states.start(listener);
  }

  @Override
  public boolean watches() {
    return states.polling();
  }

  /** The instance as the last poll saw it when that poll can vouch for it, else as EC2 says now. */
  @Override
  public Optional<Machine> describe(String machineId) {
    Optional<Machine> polled = states.describe(machineId);
    return polled.isPresent() ? polled : describeNow(machineId);
  }

  /** The poller behind {@link #describe} (tests drive it by hand). */
  InstanceStates states() {
    return states;
  }

  /** One DescribeInstances for one instance. */
  Optional<Machine> describeNow(String machineId) {
    try {
      return ec2.describeInstances(DescribeInstancesRequest.builder().instanceIds(machineId).build())
          .reservations().stream()
          .flatMap(r -> r.instances().stream())
          .filter(i -> machineId.equals(i.instanceId()))
          .findFirst()
          .map(Ec2MachineProvider::toMachine);
    } catch (SdkException e) {
      if (AwsErrors.isNotFound(e)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public Optional<Machine> findByLaunchToken(String launchToken) {
    DescribeInstancesRequest req = DescribeInstancesRequest.builder()
        .filters(filter("client-token", launchToken), filter("tag:" + Ec2Tags.CLUSTER_ID, clusterId))
        .build();
    // a live instance wins over a terminated one (there is at most one of each per token)
    return ec2.describeInstancesPaginator(req).reservations().stream()
        .flatMap(r -> r.instances().stream())
        .map(Ec2MachineProvider::toMachine)
        .min(Comparator.comparing((Machine m) -> m.state().isTerminating()));
  }

  @Override
  public void terminate(String machineId) {
    states.terminating(machineId);
    try {
      ec2.terminateInstances(r -> r.instanceIds(machineId));
    } catch (SdkException e) {
      if (!AwsErrors.isNotFound(e)) {
        throw e;
      }
      // right after a launch EC2 may not know the instance yet: the caller confirms with describe() and comes back
      LOG.debug("TerminateInstances {}: not found ({})", machineId, AwsErrors.describe(e));
    }
  }

  @Override
  public List<Machine> list() {
    DescribeInstancesRequest req = DescribeInstancesRequest.builder()
        .filters(filter("tag:" + Ec2Tags.CLUSTER_ID, clusterId),
            filter("tag:" + Ec2Tags.MANAGED_BY, Ec2Tags.MANAGED_BY_VALUE),
            Filter.builder().name("instance-state-name").values(LIVE_STATES).build())
        .build();
    return ec2.describeInstancesPaginator(req).reservations().stream()
        .flatMap(r -> r.instances().stream())
        .map(Ec2MachineProvider::toMachine)
        .toList();
  }

  /** Closes the EC2 client. */
  @Override
  public void close() {
    states.close();
    close.run();
  }

  private static Filter filter(String name, String value) {
    return Filter.builder().name(name).values(value).build();
  }

  static Machine toMachine(Instance i) {
    String jobUid = i.tags().stream().filter(t -> Ec2Tags.JOB_UID.equals(t.key())).map(Tag::value).findFirst()
        .orElse(null);
    String token = i.clientToken() == null || i.clientToken().isEmpty() ? null : i.clientToken();
    String reason = i.stateReason() != null && i.stateReason().message() != null ? i.stateReason().message()
        : i.stateTransitionReason() == null || i.stateTransitionReason().isEmpty() ? null : i.stateTransitionReason();
    return new Machine(i.instanceId(), state(i.state() == null ? null : i.state().name()), jobUid, token,
        i.launchTime(), reason == null ? stateName(i) : stateName(i) + ": " + reason);
  }

  private static String stateName(Instance i) {
    return i.state() == null ? "unknown" : i.state().nameAsString();
  }

  static MachineState state(InstanceStateName s) {
    if (s == null) {
      return MachineState.PENDING;
    }
    return switch (s) {
      case PENDING -> MachineState.PENDING;
      case RUNNING -> MachineState.RUNNING;
      case STOPPING, STOPPED -> MachineState.STOPPED;
      case SHUTTING_DOWN -> MachineState.SHUTTING_DOWN;
      case TERMINATED -> MachineState.TERMINATED;
      default -> MachineState.PENDING;
    };
  }
}
