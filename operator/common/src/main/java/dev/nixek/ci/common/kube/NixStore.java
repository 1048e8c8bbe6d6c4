package dev.nixek.ci.common.kube;

import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;

/**
 * The writable {@code /nix} of builder and evaluation pods: an emptyDir (counted against the pod's ephemeral
 * storage), because the image's root filesystem is not the Nix store's and the pods run nix as a non-root user in
 * single-user mode, which creates {@code /nix/store} and {@code /nix/var} itself — told so by {@code NIX_REMOTE=local}
 * ({@code OneShotNixPod}): without it, a non-root Nix 2.26 in an empty {@code /nix} uses a store under {@code $HOME}
 * instead, whose outputs are not at their {@code /nix/store} paths. The store starts empty in every pod; what nix
 * fetches or builds goes with the pod.
 */
public final class NixStore {
  public static final String PATH = "/nix";
  static final String VOLUME = "nix-store";

  private NixStore() {}

  public static Volume volume() {
    return volume("");
  }

  /**
   * The store with a {@code sizeLimit} ("" for none): a kubelet evicts the pod when what it wrote there exceeds it
   * ("Usage of EmptyDir volume ... exceeds the limit").
   */
  public static Volume volume(String sizeLimit) {
    var emptyDir = new VolumeBuilder().withName(VOLUME).withNewEmptyDir();
    if (sizeLimit != null && !sizeLimit.isEmpty()) {
      emptyDir.withSizeLimit(new io.fabric8.kubernetes.api.model.Quantity(sizeLimit));
    }
    return emptyDir.endEmptyDir().build();
  }

  public static VolumeMount mount() {
    return new VolumeMountBuilder().withName(VOLUME).withMountPath(PATH).build();
  }
}
