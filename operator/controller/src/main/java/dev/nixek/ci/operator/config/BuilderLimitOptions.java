package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.quantity;

import dev.nixek.ci.common.config.ConfigOption;
import dev.nixek.ci.operator.pod.PodLimits;
import java.util.List;
import java.util.Map;

/**
 * What a builder pod may take of its node beyond memory (docs/images.md#the-builder-pod): a CPU limit, an
 * ephemeral-storage limit over {@code NIXEK_BUILDER_STORAGE_REQUEST}, and the size limit of its {@code /nix}, so
 * that a build that grows past them is evicted alone. Part of {@link ImageOptions}; the request stays there.
 *
 * @param limits the limits; its storage request is "" (ImageOptions' request is the pod's)
 */
public record BuilderLimitOptions(PodLimits limits) {

  public static final ConfigOption<String> CPU_LIMIT = new ConfigOption<>("NIXEK_BUILDER_CPU_LIMIT", "4",
      "CPU limit of builder pods (none: no limit)", quantity());
  public static final ConfigOption<String> STORAGE_LIMIT = new ConfigOption<>("NIXEK_BUILDER_STORAGE_LIMIT", "60Gi",
      "ephemeral-storage limit of builder pods: a build writing more is evicted and fails (BuildFailed; none: no "
      + "limit)", quantity());
  public static final ConfigOption<String> NIX_SIZE_LIMIT = new ConfigOption<>("NIXEK_BUILDER_NIX_SIZE_LIMIT",
      "50Gi", "sizeLimit of builder pods' /nix emptyDir (the Nix store and the disk image): past it the pod is "
      + "evicted (none: no limit)", quantity());

  public static final List<ConfigOption<?>> OPTIONS = List.of(CPU_LIMIT, STORAGE_LIMIT, NIX_SIZE_LIMIT);

  /** Reads the limits and checks them against the requests of {@link ImageOptions} read from the same {@code env}. */
  public static BuilderLimitOptions fromEnv(Map<String, String> env) {
    String cpuLimit = CPU_LIMIT.read(env);
    String storageLimit = STORAGE_LIMIT.read(env);
    PodLimits.check(ImageOptions.BUILDER_CPU, ImageOptions.BUILDER_CPU.read(env), CPU_LIMIT, cpuLimit);
    PodLimits.check(ImageOptions.BUILDER_MEMORY, ImageOptions.BUILDER_MEMORY.read(env),
        ImageOptions.BUILDER_MEMORY_LIMIT, ImageOptions.BUILDER_MEMORY_LIMIT.read(env));
    PodLimits.check(ImageOptions.BUILDER_STORAGE, ImageOptions.BUILDER_STORAGE.read(env), STORAGE_LIMIT,
        storageLimit);
    return new BuilderLimitOptions(new PodLimits(cpuLimit, "", storageLimit, NIX_SIZE_LIMIT.read(env)));
  }
}
