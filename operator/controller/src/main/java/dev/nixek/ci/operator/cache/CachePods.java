package dev.nixek.ci.operator.cache;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Puts a domain's {@link CachePodSettings} into a builder or evaluation pod: the Nix settings (no secret: the view's
 * URL, the public key, the netrc file's path) in {@code NIX_CONFIG}, and the netrc (the read token) as a key of the
 * Secret the pod mounts already — the upload grant or the evaluation token — mounted alone at {@code /nixek/cache}
 * with mode 0440, the way the evaluation token reaches its pod. No token is in the pod spec's env or args.
 */
public final class CachePods {
  /** The key of the netrc in the pod's Secret. */
  public static final String NETRC_KEY = "netrc";
  static final String VOLUME = "nixek-cache";
  static final String MOUNT = "/nixek/cache";
  static final String NIX_CONFIG = "NIX_CONFIG";

  private CachePods() {}

  /** {@code secret} with the netrc added (the Secret is created with it: it is immutable). */
  public static Secret withNetrc(Secret secret, CachePodSettings settings) {
    return new SecretBuilder(secret).addToData(NETRC_KEY, Base64.getEncoder()
        .encodeToString(settings.netrc().getBytes(StandardCharsets.UTF_8))).build();
  }

  /**
   * {@code pod} whose container {@code container} gets the settings in {@code NIX_CONFIG} and the netrc of Secret
   * {@code secretName} at {@link CachePodSettings#NETRC_PATH}, and {@code extraArgs} after its command.
   */
  public static Pod withSettings(Pod pod, String container, String secretName, CachePodSettings settings,
      List<String> extraArgs) {
    Pod copy = new PodBuilder(pod).build();
    copy.getSpec().getVolumes().add(new VolumeBuilder().withName(VOLUME).withNewSecret().withSecretName(secretName)
        .addNewItem().withKey(NETRC_KEY).withPath(NETRC_KEY).endItem().withDefaultMode(0440)
        // optional: a Secret made before the cache was on (an evaluation started earlier) has no netrc
        .withOptional(true).endSecret().build());
    for (Container c : copy.getSpec().getContainers()) {
      if (!c.getName().equals(container)) {
        continue;
      }
      c.getVolumeMounts().add(new VolumeMountBuilder().withName(VOLUME).withMountPath(MOUNT).withReadOnly(true)
          .build());
      List<EnvVar> env = new ArrayList<>(c.getEnv() == null ? List.of() : c.getEnv());
      env.removeIf(e -> NIX_CONFIG.equals(e.getName()));
      env.add(new EnvVar(NIX_CONFIG, String.join("\n", settings.nixConfigLines()) + "\n", null));
      c.setEnv(env);
      List<String> command = new ArrayList<>(c.getCommand());
      command.addAll(extraArgs);
      c.setCommand(command);
    }
    return copy;
  }
}
