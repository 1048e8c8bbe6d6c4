package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.awsIds;
import static dev.nixek.ci.common.config.Parsers.bool;
import static dev.nixek.ci.common.config.Parsers.matching;
import static dev.nixek.ci.common.config.Parsers.seconds;

import dev.nixek.ci.common.config.ConfigOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Settings of the {@code ec2} machine provider. Part of {@link OperatorConfig}. Where it reaches EC2 (region,
 * endpoint) is {@link AwsOptions}', shared with the images; credentials come from the SDK's default chain (IRSA / pod
 * identity in a cluster).
 *
 * @param subnets subnets a job's instance may launch in; one is chosen from the launch token, so a replayed launch
 *     uses the same one. Empty: the default VPC's default subnet.
 * @param securityGroups security groups of every instance; empty: the VPC's default group
 * @param instanceProfile instance profile name or ARN; empty: none (the agent needs no AWS access)
 * @param instanceType instance type of jobs that set no {@code spec.instanceType}
 * @param spot launch spot instances, falling back to on-demand when spot capacity is unavailable
 * @param notFoundGrace how long after a launch (or a job's end) "not found" from EC2 is not taken as proof
 */
public record Ec2Options(
    List<String> subnets,
    List<String> securityGroups,
    String instanceProfile,
    String instanceType,
    boolean spot,
    Duration notFoundGrace) {

  public static final ConfigOption<List<String>> SUBNETS = new ConfigOption<>("NIXEK_EC2_SUBNETS", "",
      "comma-separated subnet ids; each launch picks one from its launch token, so a replay reuses it "
      + "(empty: the default subnet)", awsIds("subnet-"));
  public static final ConfigOption<List<String>> SECURITY_GROUPS = new ConfigOption<>("NIXEK_EC2_SECURITY_GROUPS",
      "", "comma-separated security group ids of every job instance (empty: the VPC's default group)",
      awsIds("sg-"));
  public static final ConfigOption<String> INSTANCE_PROFILE = new ConfigOption<>("NIXEK_EC2_INSTANCE_PROFILE", "",
      "IAM instance profile (name or ARN) of job instances; empty: none",
      matching("(arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/)?[\\w+=,.@/-]{1,128}", "a profile name or ARN",
          true));
  public static final ConfigOption<String> INSTANCE_TYPE = new ConfigOption<>("NIXEK_EC2_INSTANCE_TYPE",
      "m7i.large", "instance type of jobs that set no spec.instanceType",
      matching("[a-z0-9]+[a-z0-9-]*\\.[a-z0-9]+", "an instance type like m7i.large", false));
  public static final ConfigOption<Boolean> SPOT = new ConfigOption<>("NIXEK_EC2_SPOT", "false",
      "launch spot instances; on a spot capacity error the launch falls back to on-demand (a new, recorded "
      + "launch token, so the fallback can never add a second instance)", bool());
  public static final ConfigOption<Duration> NOT_FOUND_GRACE = new ConfigOption<>(
      "NIXEK_EC2_NOT_FOUND_GRACE_SECONDS", "120",
      "EC2 is eventually consistent: for this long after a launch (or a job's end) an instance EC2 does not "
      + "show is assumed to exist", seconds(0, 3600));

  /** The provider's own options; the region and EC2 endpoint are {@link AwsOptions}' (one definition each). */
  public static final List<ConfigOption<?>> OPTIONS = List.of(SUBNETS, SECURITY_GROUPS, INSTANCE_PROFILE,
      INSTANCE_TYPE, SPOT, NOT_FOUND_GRACE);

  public static Ec2Options fromEnv(Map<String, String> env) {
    return new Ec2Options(SUBNETS.read(env), SECURITY_GROUPS.read(env), INSTANCE_PROFILE.read(env),
        INSTANCE_TYPE.read(env), SPOT.read(env), NOT_FOUND_GRACE.read(env));
  }
}
