package dev.nixek.ci.operator.pod;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.common.config.ConfigOption;
import io.fabric8.kubernetes.api.model.Quantity;

/**
 * What one kind of {@link OneShotNixPod} may take of its node beyond memory: a CPU limit, an ephemeral-storage
 * request and limit (the Nix store, nix's caches under $HOME and the container's writable layer all count), and a
 * {@code sizeLimit} on the {@code /nix} emptyDir, so that one large fetch or build is evicted alone instead of
 * filling the node's disk and evicting its neighbours. Each is "" for none. A limit below its request would be
 * refused by the API server for every pod; {@link #check} refuses it at start instead, naming the options.
 */
public record PodLimits(String cpuLimit, String storageRequest, String storageLimit, String nixSizeLimit) {

  /** Adds the limits to {@code pod}. */
  public OneShotNixPod applyTo(OneShotNixPod pod) {
    return pod.limit("cpu", cpuLimit)
        .request("ephemeral-storage", storageRequest)
        .limit("ephemeral-storage", storageLimit)
        .nixStoreSizeLimit(nixSizeLimit);
  }

  /** Throws when {@code limit} is set below {@code request} (both set). */
  public static void check(ConfigOption<?> requestOption, String request, ConfigOption<?> limitOption,
      String limit) {
    if (request == null || request.isEmpty() || limit == null || limit.isEmpty()) {
      return;
    }
    if (Quantity.getAmountInBytes(new Quantity(limit)).compareTo(Quantity.getAmountInBytes(new Quantity(request)))
        < 0) {
      throw new ConfigException(limitOption.key() + "=" + limit + " is less than " + requestOption.key() + "="
          + request + ": Kubernetes refuses a pod whose limit is below its request");
    }
  }
}
