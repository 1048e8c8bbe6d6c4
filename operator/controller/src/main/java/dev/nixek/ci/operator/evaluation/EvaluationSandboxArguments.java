package dev.nixek.ci.operator.evaluation;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.operator.config.EvaluationOptions;
import dev.nixek.ci.operator.config.ImageOptions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code evaluate} arguments that set a job's evaluation sandbox (docs/evaluation.md#the-sandbox): the URIs its
 * Nix may fetch from — the job's flake, the operator's nixpkgs pin (when it is a flake reference; a path is given
 * to nix as a readable path instead) and {@code NIXEK_EVAL_ALLOWED_URIS} — and import from derivation when
 * {@code NIXEK_EVAL_ALLOW_IMPORT_FROM_DERIVATION} allows it. The evaluate command always runs nix with
 * {@code restrict-eval}; nothing here can turn that off. The flake's URL is the job author's choice, so
 * allowed-uris is not what keeps a job from the metadata endpoint or the cluster's services: the pods'
 * NetworkPolicy is (and nix's {@code builtins.getFlake} does not consult allowed-uris at all).
 */
final class EvaluationSandboxArguments {
  private EvaluationSandboxArguments() {}

  static List<String> of(NixekJob job, ImageOptions images, EvaluationOptions eval) {
    List<String> argv = new ArrayList<>();
    List<String> uris = allowedUris(job, images, eval);
    if (!uris.isEmpty()) {
      argv.addAll(List.of("--allowed-uris", String.join(" ", uris)));
    }
    if (eval.allowImportFromDerivation()) {
      argv.add("--allow-import-from-derivation");
    }
    return argv;
  }

  /** In this order, each once. */
  static List<String> allowedUris(NixekJob job, ImageOptions images, EvaluationOptions eval) {
    Set<String> uris = new LinkedHashSet<>();
    // the schema and FlakeRules refuse whitespace in a flake URL; checked again because nix's list is
    // space-separated, and one URL must never become two entries
    if (job.getSpec().flake != null && job.getSpec().flake.url != null && job.getSpec().flake.url.matches("\\S+")) {
      uris.add(job.getSpec().flake.url);
    }
    if (!images.nixpkgs().isEmpty() && !images.nixpkgs().startsWith("/")) {
      uris.add(images.nixpkgs());
    }
    uris.addAll(eval.allowedUris());
    return List.copyOf(uris);
  }
}
