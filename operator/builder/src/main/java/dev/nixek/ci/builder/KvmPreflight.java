package dev.nixek.ci.builder;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * KVM, settled before anything is built. nixpkgs builds a disk image inside a VM ({@code runInLinuxVM}, a derivation
 * with {@code requiredSystemFeatures = [ "kvm" ]}); without a KVM device Nix would build every other input first
 * and only then refuse, and with {@code kvm} claimed but no device QEMU would emulate for an hour. So:
 *
 * <ul>
 *   <li>a usable device: Nix is told it has {@code kvm} ({@code extra-system-features}) — claimed only then;
 *   <li>none, and the build needs it: fail now, saying what to configure ({@link #MISSING});
 *   <li>none, with the explicit slow fallback ({@code --kvm-fallback emulate}): claim {@code kvm} anyway, and QEMU,
 *       which nixpkgs starts with {@code accel=kvm:tcg}, emulates the VM (TCG) — slowly, with a warning.
 * </ul>
 *
 * <p>Whether the build needs it is asked of Nix ({@link KvmDerivations}) for the default build command; a custom
 * build command builds what it likes, so with one the builder only reports what it found and Nix decides.
 */
final class KvmPreflight {
  private static final Logger LOG = LoggerFactory.getLogger(KvmPreflight.class);
  static final String NIX_CONFIG = "NIX_CONFIG";
  static final String CLAIM = "extra-system-features = kvm";
  /** Where the failure message sends the reader (a heading of docs/images.md). */
  static final String DOCS = "docs/images.md#kvm";
  static final String MISSING = "builder pods get KVM from a device plugin: set NIXEK_BUILDER_KVM_RESOURCE "
      + "(chart: builder.kvm.resource, e.g. devices.kubevirt.io/kvm) and, for KVM nodes, NIXEK_BUILDER_NODE_SELECTOR "
      + "and NIXEK_BUILDER_TOLERATIONS (builder.nodeSelector, builder.tolerations); or accept a build many times "
      + "slower with NIXEK_BUILDER_KVM_FALLBACK=emulate (builder.kvm.fallback). See " + DOCS;

  private final Path device;
  private final boolean emulate;
  private final KvmDerivations derivations;

  KvmPreflight(Path device, boolean emulate, KvmDerivations derivations) {
    this.device = device;
    this.emulate = emulate;
    this.derivations = derivations;
  }

  /**
   * The build's environment with {@code kvm} claimed when it may be; throws when the build needs KVM and has none.
   *
   * @param expr the image expression when the default build command builds it; null with a custom command
   */
  Map<String, String> prepare(Map<String, String> env, Path expr) throws BuilderException, InterruptedException {
    Optional<String> problem = KvmDevice.problem(device);
    if (problem.isEmpty()) {
      LOG.info("KVM: {} is usable; nix may build derivations that require 'kvm'", device);
      return claim(env);
    }
    if (emulate) {
      LOG.warn("KVM: {}; NIXEK_BUILDER_KVM_FALLBACK=emulate: claiming 'kvm' anyway, so a VM step runs under "
          + "QEMU's emulation (TCG), many times slower than with KVM", problem.get());
      return claim(env);
    }
    if (expr == null) {
      LOG.info("KVM: {}; the build command is custom, so nix alone decides what it can build", problem.get());
      return env;
    }
    Optional<List<String>> needKvm = derivations.of(expr, env);
    if (needKvm.isPresent() && !needKvm.get().isEmpty()) {
      List<String> drvs = needKvm.get();
      throw BuilderException.build("this build needs KVM, but " + problem.get() + ": " + name(drvs.get(0))
          + (drvs.size() > 1 ? " (and " + (drvs.size() - 1) + " more)" : "") + " requires the system feature "
          + "'kvm' (nixpkgs builds disk images in a VM). Nothing was built; " + MISSING);
    }
    LOG.info("KVM: {}; nothing this build needs requires 'kvm'", problem.get());
    return env;
  }

  static Map<String, String> claim(Map<String, String> env) {
    Map<String, String> out = new HashMap<>(env);
    String config = env.get(NIX_CONFIG);
    out.put(NIX_CONFIG, config == null || config.isBlank() ? CLAIM : config + "\n" + CLAIM);
    return out;
  }

  /** {@code /nix/store/<hash>-nixos-disk-image.drv} → {@code nixos-disk-image.drv}: the hash says nothing here. */
  static String name(String drvPath) {
    String file = Path.of(drvPath).getFileName().toString();
    int dash = file.indexOf('-');
    return dash == 32 ? file.substring(dash + 1) : file;
  }
}
