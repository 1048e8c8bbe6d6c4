package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.operator.config.ImageOptions;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The content-addressed identity of a machine image (DESIGN §1.2), computed without running Nix: the SHA-256 of
 * everything that determines the image — the machine module's text, the nixpkgs pin, the system, the disk size,
 * the agent version — and of {@link #RECIPE}, the way the operator turns them into a build. Images with the same
 * identity are the same image: the builder pod, the S3 object, the import task's ClientToken and the AMI name are
 * all derived from it, so they are made once.
 *
 * <p>It is conservative: two machines that differ only in formatting hash differently (and are built twice) though
 * Nix would give them one drvPath. The drvPath the builder reports is recorded in status next to it.
 *
 * @param machine the machine module's text, normalized ({@link #normalize})
 * @param diskSizeGiB the root disk size, null for nixpkgs' default
 */
public record ImageIdentity(String hash, String machine, String nixpkgs, String system, Integer diskSizeGiB,
    String agentVersion) {
  /** Bump when the build recipe changes ({@link BuilderPods}'s expression, the builder's arguments). */
  public static final String RECIPE = "nixek-image/v1";
  /** Length of the hash prefix used in names (128 bits). */
  static final int SHORT = 32;

  /** The identity of an image spec, with the operator's defaults for what it leaves out; null if {@code spec} is. */
  public static ImageIdentity of(NixekMachineImageSpec spec, ImageOptions defaults) {
    return of(spec.machine, orDefault(spec.nixpkgs, defaults.nixpkgs()), orDefault(spec.system, defaults.system()),
        spec.diskSizeGiB, defaults.agentVersion());
  }

  public static ImageIdentity of(String machine, String nixpkgs, String system, Integer diskSizeGiB,
      String agentVersion) {
    String m = normalize(machine);
    StringBuilder in = new StringBuilder(RECIPE).append('\n');
    field(in, "machine", m);
    field(in, "nixpkgs", nixpkgs);
    field(in, "system", system);
    field(in, "diskSizeGiB", diskSizeGiB == null ? "" : diskSizeGiB.toString());
    field(in, "agentVersion", agentVersion);
    return new ImageIdentity(sha256(in.toString()), m, nixpkgs, system, diskSizeGiB, agentVersion);
  }

  /** The first 128 bits of the hash, for names with length limits. */
  public String shortHash() {
    return hash.substring(0, SHORT);
  }

  /**
   * Line endings as LF and no surrounding whitespace: a YAML {@code |} block and a {@code |-} block, or a file
   * saved on Windows, give the same machine.
   */
  static String normalize(String machine) {
    return machine == null ? "" : machine.replace("\r\n", "\n").replace('\r', '\n').strip();
  }

  static String orDefault(String value, String fallback) {
    return value == null || value.isBlank() ? fallback : value;
  }

  /** Length-prefixed, so that no value can forge the boundary to the next one. */
  private static void field(StringBuilder in, String name, String value) {
    String v = value == null ? "" : value;
    in.append(name).append(' ').append(v.length()).append(':').append(v).append('\n');
  }

  static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
