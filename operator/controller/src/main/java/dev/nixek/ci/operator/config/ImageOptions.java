package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.command;
import static dev.nixek.ci.common.config.Parsers.dnsLabel;
import static dev.nixek.ci.common.config.Parsers.matching;
import static dev.nixek.ci.common.config.Parsers.quantity;
import static dev.nixek.ci.common.config.Parsers.seconds;
import static dev.nixek.ci.common.config.Parsers.string;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.common.config.ConfigOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How NixekMachineImages are built, imported and collected (docs/images.md). Part of {@link OperatorConfig}.
 *
 * @param bucket the S3 bucket images are uploaded to, unless an image names its own; empty: images must name one
 * @param keyPrefix S3 key prefix; objects are {@code <prefix>/<cluster id>/<identity>/<file>}
 * @param nixpkgs the nixpkgs pin of images (and inline job machines) that name none; empty: they must name one
 * @param system the Nix system of images that name none
 * @param agentVersion the agent version baked into images: part of every image's identity
 * @param nixDir where the builder pod finds this repository's {@code nix/} directory
 * @param agentJar where the builder image holds the agent jar that machines get (part of every evaluated drvPath)
 * @param builderImage the builder pod's container image
 * @param builderCommand the builder pod's command (the builder's arguments are appended)
 * @param builderBuildCommand the builder's {@code --build-command}; empty: its default ({@code nix-build})
 * @param builderServiceAccount the builder pod's ServiceAccount (no permissions, no AWS role)
 * @param builderCpuRequest CPU request of the builder pod ("" for none)
 * @param builderMemoryRequest memory request of the builder pod
 * @param builderMemoryLimit memory limit of the builder pod
 * @param builderStorageRequest ephemeral-storage request of the builder pod (the Nix store and the image)
 * @param builderTimeout the builder pod's activeDeadlineSeconds
 * @param importRole the IAM role VM Import assumes to read the bucket
 * @param pollMin the first delay between DescribeImportSnapshotTasks polls (and after a failed AWS call)
 * @param pollMax the longest delay between polls
 * @param gcInterval how often the image collector runs
 * @param gcGrace how old an unreferenced AMI, snapshot or S3 object must be before the collector removes it
 * @param inlineRetention how long an inline machine's image outlives the last job that uses it
 * @param builderScheduling where builder pods run and how they get KVM
 * @param trust who shares an image, and what a builder pod may upload
 * @param builderLimits CPU and ephemeral-storage limits of builder pods and the size limit of their /nix
 */
public record ImageOptions(
    String bucket,
    String keyPrefix,
    String nixpkgs,
    String system,
    String agentVersion,
    String nixDir,
    String agentJar,
    String builderImage,
    List<String> builderCommand,
    String builderBuildCommand,
    String builderServiceAccount,
    String builderCpuRequest,
    String builderMemoryRequest,
    String builderMemoryLimit,
    String builderStorageRequest,
    Duration builderTimeout,
    String importRole,
    Duration pollMin,
    Duration pollMax,
    Duration gcInterval,
    Duration gcGrace,
    Duration inlineRetention,
    BuilderSchedulingOptions builderScheduling,
    ImageTrustOptions trust,
    BuilderLimitOptions builderLimits) {

  /** The version of this operator build, the default agent version. */
  public static final String OPERATOR_VERSION = operatorVersion();

  public static final ConfigOption<String> BUCKET = new ConfigOption<>("NIXEK_IMAGE_BUCKET", "",
      "S3 bucket disk images are uploaded to for EC2 import (an image's spec.bucket wins); empty: images must name "
      + "one", matching("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "an S3 bucket name", true));
  public static final ConfigOption<String> KEY_PREFIX = new ConfigOption<>("NIXEK_IMAGE_KEY_PREFIX", "nixek-images",
      "S3 key prefix of disk images: objects are <prefix>/<cluster id>/<image hash>/<file>",
      matching("[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*", "a key prefix without leading or trailing '/'",
          false));
  public static final ConfigOption<String> NIXPKGS = new ConfigOption<>("NIXEK_IMAGE_NIXPKGS", "",
      "nixpkgs pin of images and inline job machines that name none: a flake reference with a full rev "
      + "(github:NixOS/nixpkgs/<40-hex>) or an absolute path; empty: every image must set spec.nixpkgs",
      matching("(/[^\\s\"\\\\$]*|[a-z+]+:[^\\s\"\\\\$]+)", "a flake reference or an absolute path", true));
  public static final ConfigOption<String> SYSTEM = new ConfigOption<>("NIXEK_IMAGE_SYSTEM", "x86_64-linux",
      "Nix system of images and inline job machines that name none",
      matching("x86_64-linux|aarch64-linux", "x86_64-linux or aarch64-linux", false));
  public static final ConfigOption<String> AGENT_VERSION = new ConfigOption<>("NIXEK_IMAGE_AGENT_VERSION",
      OPERATOR_VERSION, "version of the agent the builder bakes into images (part of every image's identity: "
      + "changing it rebuilds every image); keep it the builder image's", matching("[A-Za-z0-9._+-]{1,64}",
          "a version", false));
  public static final ConfigOption<String> NIX_DIR = new ConfigOption<>("NIXEK_IMAGE_NIX_DIR", "/opt/nixek/src/nix",
      "directory of this repository's nix/ inside the builder image",
      matching("/[^\\s\"\\\\$]*", "an absolute path", false));
  public static final ConfigOption<String> AGENT_JAR = new ConfigOption<>("NIXEK_IMAGE_AGENT_JAR",
      "/opt/nixek/nixek-agent.jar", "the agent jar inside the builder and evaluation image that every job machine "
      + "gets (its content is part of the machine's drvPath)", matching("/[^\\s\"\\\\$]*", "an absolute path",
          false));
  public static final ConfigOption<String> BUILDER_IMAGE = new ConfigOption<>("NIXEK_BUILDER_IMAGE",
      "ghcr.io/nixek/nixek-ci:" + OPERATOR_VERSION, "container image of builder pods: nixek-ci's one image (its "
      + "entrypoint runs the builder; the Helm chart passes its own image) or one with nix, java, nix/ and the "
      + "builder", matching("\\S+", "an image reference", false));
  public static final ConfigOption<List<String>> BUILDER_COMMAND = new ConfigOption<>("NIXEK_BUILDER_COMMAND",
      "/opt/nixek/bin/nixek builder", "command of builder pods (default: the image's entrypoint with its builder "
      + "command); 'build --expr-file ... --bucket ...' is appended", command());
  public static final ConfigOption<String> BUILDER_BUILD_COMMAND = new ConfigOption<>(
      "NIXEK_BUILDER_BUILD_COMMAND", "", "the builder's --build-command (a /bin/sh -c script printing the output "
      + "path last; $NIXEK_IMAGE_EXPR is the image expression); empty: the builder's nix-build", string());
  public static final ConfigOption<String> BUILDER_SERVICE_ACCOUNT = new ConfigOption<>(
      "NIXEK_BUILDER_SERVICE_ACCOUNT", "nixek-builder", "ServiceAccount of builder pods: it needs no permissions "
      + "and no AWS role (builder pods upload through presigned URLs the operator hands them)", dnsLabel());
  public static final ConfigOption<String> BUILDER_CPU = new ConfigOption<>("NIXEK_BUILDER_CPU_REQUEST", "1",
      "CPU request of builder pods (none: no request)", quantity());
  public static final ConfigOption<String> BUILDER_MEMORY = new ConfigOption<>("NIXEK_BUILDER_MEMORY_REQUEST",
      "2Gi", "memory request of builder pods (none: no request)", quantity());
  public static final ConfigOption<String> BUILDER_MEMORY_LIMIT = new ConfigOption<>("NIXEK_BUILDER_MEMORY_LIMIT",
      "8Gi", "memory limit of builder pods (none: no limit)", quantity());
  public static final ConfigOption<String> BUILDER_STORAGE = new ConfigOption<>("NIXEK_BUILDER_STORAGE_REQUEST",
      "30Gi", "ephemeral-storage request of builder pods: the Nix store and the image (none: no request)", quantity());
  public static final ConfigOption<Duration> BUILDER_TIMEOUT = new ConfigOption<>("NIXEK_BUILDER_TIMEOUT_SECONDS",
      "14400", "activeDeadlineSeconds of builder pods: a build running longer fails (BuildFailed)",
      seconds(60, 604800));
  public static final ConfigOption<String> IMPORT_ROLE = new ConfigOption<>("NIXEK_IMAGE_IMPORT_ROLE", "vmimport",
      "IAM role EC2 VM Import assumes to read the bucket (ImportSnapshot RoleName)",
      matching("[\\w+=,.@-]{1,64}", "an IAM role name", false));
  public static final ConfigOption<Duration> POLL_MIN = new ConfigOption<>("NIXEK_IMAGE_POLL_MIN_SECONDS", "10",
      "first delay between import-task polls and after a failed AWS call; it grows with the task's age",
      seconds(1, 3600));
  public static final ConfigOption<Duration> POLL_MAX = new ConfigOption<>("NIXEK_IMAGE_POLL_MAX_SECONDS", "120",
      "longest delay between import-task polls", seconds(1, 3600));
  public static final ConfigOption<Duration> GC_INTERVAL = new ConfigOption<>("NIXEK_IMAGE_GC_INTERVAL_SECONDS",
      "900", "how often the image collector removes this cluster's unreferenced AMIs, snapshots, S3 objects and "
      + "unused inline-machine images", seconds(1, 604800));
  public static final ConfigOption<Duration> GC_GRACE = new ConfigOption<>("NIXEK_IMAGE_GC_GRACE_SECONDS", "3600",
      "the collector removes an unreferenced AMI, snapshot or S3 object only when it is at least this old",
      seconds(0, 2592000));
  public static final ConfigOption<Duration> INLINE_RETENTION = new ConfigOption<>(
      "NIXEK_IMAGE_INLINE_RETENTION_SECONDS", "86400", "an inline job machine's image is deleted this long after "
      + "the last job using it is gone", seconds(60, 31536000));

  public static final List<ConfigOption<?>> OPTIONS = java.util.stream.Stream.of(List.<ConfigOption<?>>of(
      BUCKET, KEY_PREFIX, NIXPKGS, SYSTEM, AGENT_VERSION,
      NIX_DIR, AGENT_JAR, BUILDER_IMAGE, BUILDER_COMMAND, BUILDER_BUILD_COMMAND, BUILDER_SERVICE_ACCOUNT, BUILDER_CPU,
      BUILDER_MEMORY, BUILDER_MEMORY_LIMIT, BUILDER_STORAGE, BUILDER_TIMEOUT, IMPORT_ROLE, POLL_MIN, POLL_MAX,
      GC_INTERVAL, GC_GRACE, INLINE_RETENTION), BuilderSchedulingOptions.OPTIONS, ImageTrustOptions.OPTIONS,
      BuilderLimitOptions.OPTIONS).<ConfigOption<?>>flatMap(List::stream).toList();

  public ImageOptions {
    if (pollMax.compareTo(pollMin) < 0) {
      throw new ConfigException(POLL_MAX.key() + " must not be less than " + POLL_MIN.key());
    }
  }

  public static ImageOptions fromEnv(Map<String, String> env) {
    return new ImageOptions(BUCKET.read(env), KEY_PREFIX.read(env), NIXPKGS.read(env), SYSTEM.read(env),
        AGENT_VERSION.read(env), NIX_DIR.read(env), AGENT_JAR.read(env), BUILDER_IMAGE.read(env),
        BUILDER_COMMAND.read(env), BUILDER_BUILD_COMMAND.read(env), BUILDER_SERVICE_ACCOUNT.read(env),
        BUILDER_CPU.read(env),
        BUILDER_MEMORY.read(env), BUILDER_MEMORY_LIMIT.read(env), BUILDER_STORAGE.read(env),
        BUILDER_TIMEOUT.read(env), IMPORT_ROLE.read(env), POLL_MIN.read(env), POLL_MAX.read(env),
        GC_INTERVAL.read(env), GC_GRACE.read(env), INLINE_RETENTION.read(env),
        BuilderSchedulingOptions.fromEnv(env), ImageTrustOptions.fromEnv(env), BuilderLimitOptions.fromEnv(env));
  }

  private static String operatorVersion() {
    String v = ImageOptions.class.getPackage().getImplementationVersion();
    return v == null || v.isBlank() ? "dev" : v;
  }
}
