package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.operator.config.ImageOptions;
import dev.nixek.ci.common.job.FlakeRules;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The content-addressed identity of a machine image (docs/architecture.md). Two recipes:
 *
 * <ul>
 *   <li>{@link #RECIPE_V2}, images of an evaluated machine ({@code spec.nix} or {@code spec.flake} with
 *       {@code spec.drvPath}): the SHA-256 of the drvPath the evaluation gave. The drvPath already is a hash of
 *       everything that determines the image (machine, nixpkgs, system, agent, image settings), so the same machine
 *       in two jobs — written differently, in a flake or inline — is one identity and one build.
 *   <li>{@link #RECIPE}, an inline module ({@code spec.machine}), computed without running Nix: the SHA-256 of the
 *       module's text, the nixpkgs pin, the system, the disk size, the agent version. Conservative: two machines that
 *       differ only in formatting hash differently (and are built twice) though Nix would give them one drvPath.
 * </ul>
 *
 * <p>Both include the trust domain ({@code NIXEK_IMAGE_TRUST_DOMAIN}): by default the image's namespace, so the same
 * machine in two namespaces is two identities — two builds, two AMIs — and one namespace's build is never another's
 * image (docs/images.md#trust-domains). The cluster domain adds nothing, so its identities are those of before.
 *
 * <p>Images with the same identity are the same image: the builder pod, the S3 object, the import task's ClientToken
 * and the AMI name are all derived from it, so they are made once.
 *
 * @param machine the machine module's text, normalized ({@link #normalize}); null for an evaluated machine
 * @param diskSizeGiB the root disk size, null for nixpkgs' default
 * @param drvPath the evaluated drvPath (recipe v2), else null
 * @param jobNix the job expression whose machine this is (recipe v2, inline job), else null
 * @param flakeRef the flake reference with its revision (recipe v2, flake job), else null
 * @param attribute the flake job's attribute (with {@code flakeRef}), else null
 * @param trustDomain the trust domain ({@link dev.nixek.ci.operator.config.ImageTrustOptions.TrustDomain#of}); empty
 *     for the cluster
 */
public record ImageIdentity(String hash, String machine, String nixpkgs, String system, Integer diskSizeGiB,
    String agentVersion, String drvPath, String jobNix, String flakeRef, String attribute, String trustDomain) {
  /** Bump when the build recipe of inline modules changes ({@link BuilderPods}'s expression, the builder's arguments). */
  public static final String RECIPE = "nixek-image/v1";
  /** The recipe of evaluated machines: the identity is the drvPath. */
  public static final String RECIPE_V2 = "nixek-image/v2";
  /** Length of the hash prefix used in names (128 bits). */
  static final int SHORT = 32;

  /**
   * The identity of an image spec in {@code namespace}, with the operator's defaults for what it leaves out and its
   * trust domain.
   */
  public static ImageIdentity of(NixekMachineImageSpec spec, ImageOptions defaults, String namespace) {
    String domain = defaults.trust().trustDomain().of(namespace);
    if (spec.drvPath != null) {
      String flakeRef = spec.flake == null ? null : FlakeRules.ref(spec.flake);
      return evaluated(spec.drvPath, spec.nix, flakeRef, spec.flake == null ? null : spec.flake.attribute,
          orDefault(spec.nixpkgs, defaults.nixpkgs()), orDefault(spec.system, defaults.system()),
          defaults.agentVersion(), domain);
    }
    return of(spec.machine, orDefault(spec.nixpkgs, defaults.nixpkgs()), orDefault(spec.system, defaults.system()),
        spec.diskSizeGiB, defaults.agentVersion(), domain);
  }

  /** A module's identity in the cluster domain. */
  public static ImageIdentity of(String machine, String nixpkgs, String system, Integer diskSizeGiB,
      String agentVersion) {
    return of(machine, nixpkgs, system, diskSizeGiB, agentVersion, "");
  }

  /** A module's identity in {@code trustDomain} (empty: the cluster). */
  public static ImageIdentity of(String machine, String nixpkgs, String system, Integer diskSizeGiB,
      String agentVersion, String trustDomain) {
    String m = normalize(machine);
    StringBuilder in = new StringBuilder(RECIPE).append('\n');
    field(in, "machine", m);
    field(in, "nixpkgs", nixpkgs);
    field(in, "system", system);
    field(in, "diskSizeGiB", diskSizeGiB == null ? "" : diskSizeGiB.toString());
    field(in, "agentVersion", agentVersion);
    domain(in, trustDomain);
    return new ImageIdentity(sha256(in.toString()), m, nixpkgs, system, diskSizeGiB, agentVersion, null, null, null,
        null, trustDomain == null ? "" : trustDomain);
  }

  /** An evaluated machine's identity in the cluster domain. */
  public static ImageIdentity evaluated(String drvPath, String jobNix, String flakeRef, String attribute,
      String nixpkgs, String system, String agentVersion) {
    return evaluated(drvPath, jobNix, flakeRef, attribute, nixpkgs, system, agentVersion, "");
  }

  /**
   * The identity of an evaluated machine: the drvPath alone. What builds it (the job expression or the flake job,
   * the nixpkgs given to the evaluation) is carried along for the builder, but is not part of the identity: two jobs
   * whose machines evaluate to one drvPath share the image whichever of them made it.
   */
  public static ImageIdentity evaluated(String drvPath, String jobNix, String flakeRef, String attribute,
      String nixpkgs, String system, String agentVersion, String trustDomain) {
    StringBuilder in = new StringBuilder(RECIPE_V2).append('\n');
    field(in, "drvPath", drvPath);
    domain(in, trustDomain);
    return new ImageIdentity(sha256(in.toString()), null, nixpkgs, system, null, agentVersion, drvPath, jobNix,
        flakeRef, attribute, trustDomain == null ? "" : trustDomain);
  }

  /** The trust domain's field, only when there is one: the cluster domain keeps the identities of before. */
  private static void domain(StringBuilder in, String trustDomain) {
    if (trustDomain != null && !trustDomain.isEmpty()) {
      field(in, "trustDomain", trustDomain);
    }
  }

  /** The recipe this identity follows. */
  public String recipe() {
    return drvPath != null ? RECIPE_V2 : RECIPE;
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
