package dev.nixek.ci.common.job;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A flake job reference ({@code spec.flake} of a NixekJob or a NixekMachineImage): what makes it usable, and the
 * pinned flake reference it stands for. The CRD schema has the same rules; this catches what reaches the operator
 * anyway, naming the field.
 */
public final class FlakeRules {
  /** A flake reference: scheme and location, nothing that could break out of a Nix string or an argument. */
  static final Pattern URL = Pattern.compile("[a-z][a-z0-9+.-]*:[^\\s\"\\\\$]+");
  static final Pattern PINNED = Pattern.compile(".*[?&]rev=.*");
  static final Pattern REV = Pattern.compile("[0-9a-f]{40}|[0-9a-f]{64}");
  static final Pattern ATTRIBUTE = Pattern.compile("[A-Za-z_][A-Za-z0-9_'-]*(\\.[A-Za-z_][A-Za-z0-9_'-]*)*");
  /** The default attribute of a flake job: {@code ci.jobs.<metadata.name>}, as the earlier prototype had it. */
  static final String DEFAULT_ATTRIBUTE_PREFIX = "ci.jobs.";

  /** What is wrong, and with which field. */
  public record Problem(String field, String problem) {}

  private FlakeRules() {}

  /** The first problem of {@code flake} (fields named under {@code at}, e.g. {@code spec.flake}) */
  public static Optional<Problem> problem(NixekJobFlake flake, String at, boolean attributeRequired) {
    if (flake.url == null || flake.url.isBlank()) {
      return Optional.of(new Problem(at + ".url", "is required: a flake reference such as "
          + "git+https://github.com/org/repo"));
    }
    if (!URL.matcher(flake.url).matches()) {
      return Optional.of(new Problem(at + ".url", "'" + flake.url + "' is not a flake reference (scheme:location, "
          + "no spaces, quotes, '\\' or '$')"));
    }
    if (PINNED.matcher(flake.url).matches()) {
      return Optional.of(new Problem(at + ".url", "must not pin a revision itself: give it in " + at + ".rev"));
    }
    if (flake.rev == null || !REV.matcher(flake.rev).matches()) {
      return Optional.of(new Problem(at + ".rev", "must be a full commit hash (40 or 64 hex digits), not "
          + (flake.rev == null ? "nothing" : "'" + flake.rev + "'")));
    }
    if (flake.attribute == null && attributeRequired) {
      return Optional.of(new Problem(at + ".attribute", "is required: the job's attribute path, e.g. ci.jobs.hello"));
    }
    if (flake.attribute != null && !ATTRIBUTE.matcher(flake.attribute).matches()) {
      return Optional.of(new Problem(at + ".attribute", "'" + flake.attribute + "' is not an attribute path such "
          + "as ci.jobs.hello"));
    }
    return Optional.empty();
  }

  /** The flake reference pinned to its revision, as nix takes it. */
  public static String ref(NixekJobFlake flake) {
    return ref(flake.url, flake.rev);
  }

  public static String ref(String url, String rev) {
    return url + (url.contains("?") ? "&" : "?") + "rev=" + rev;
  }

  /** The flake attribute of a job: {@code spec.flake.attribute}, else {@code ci.jobs.<metadata.name>}. */
  public static String attribute(NixekJob job) {
    String a = job.getSpec().flake.attribute;
    return a == null || a.isBlank() ? DEFAULT_ATTRIBUTE_PREFIX + job.getMetadata().getName() : a;
  }

  /** What a job written in Nix evaluates, for messages: {@code spec.nix}, or {@code <flake ref>#<attribute>}. */
  public static String subject(NixekJob job) {
    return job.getSpec().flake != null ? ref(job.getSpec().flake) + "#" + attribute(job) : "spec.nix";
  }
}
