package dev.nixek.ci.common.job;

import dev.nixek.ci.api.v1alpha1.NixekJobArtifact;
import dev.nixek.ci.protocol.ArtifactPaths;
import dev.nixek.ci.protocol.ArtifactSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A step's declared artifacts between their forms: the CRD's {@link NixekJobArtifact} (spec.steps, an evaluation's
 * steps in status) and the protocol's {@link ArtifactSpec} (the agent's config, a Nix evaluation's output), checked by
 * the one set of rules in {@link ArtifactPaths}.
 */
public final class StepArtifacts {
  private StepArtifacts() {}

  /** The first problem of a step's artifacts (null: none declared), or empty. */
  public static Optional<String> problem(List<NixekJobArtifact> artifacts) {
    if (artifacts == null) {
      return Optional.empty();
    }
    if (artifacts.size() > ArtifactPaths.MAX_ARTIFACTS) {
      return Optional.of("at most " + ArtifactPaths.MAX_ARTIFACTS + " artifacts per step");
    }
    Set<String> names = new HashSet<>();
    for (NixekJobArtifact a : artifacts) {
      Optional<String> bad = ArtifactPaths.check(a == null ? null : toSpec(a));
      if (bad.isPresent()) {
        return bad;
      }
      if (!names.add(a.name)) {
        return Optional.of("duplicate artifact name '" + a.name + "'");
      }
    }
    return Optional.empty();
  }

  /** The protocol form; null for null. */
  public static List<ArtifactSpec> toSpecs(List<NixekJobArtifact> artifacts) {
    return artifacts == null || artifacts.isEmpty() ? null : artifacts.stream().map(StepArtifacts::toSpec).toList();
  }

  /** The CRD form; null for null or none. */
  public static List<NixekJobArtifact> fromSpecs(List<ArtifactSpec> specs) {
    if (specs == null || specs.isEmpty()) {
      return null;
    }
    List<NixekJobArtifact> out = new ArrayList<>(specs.size());
    for (ArtifactSpec s : specs) {
      if (s == null) {
        out.add(null);
        continue;
      }
      NixekJobArtifact a = new NixekJobArtifact();
      a.name = s.name();
      a.paths = s.paths() == null ? null : new ArrayList<>(s.paths());
      out.add(a);
    }
    return out;
  }

  /** The declared artifact called {@code name}, if the step declares one. */
  public static Optional<NixekJobArtifact> named(List<NixekJobArtifact> artifacts, String name) {
    return artifacts == null ? Optional.empty()
        : artifacts.stream().filter(a -> a != null && name.equals(a.name)).findFirst();
  }

  private static ArtifactSpec toSpec(NixekJobArtifact a) {
    return new ArtifactSpec(a.name, a.paths);
  }
}
