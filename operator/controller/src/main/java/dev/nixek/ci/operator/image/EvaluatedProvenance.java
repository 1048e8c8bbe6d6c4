package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.common.job.FlakeRules;
import dev.nixek.ci.operator.config.ImageOptions;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where an evaluated image's drvPath comes from (docs/images.md#the-drvpath-check). Its identity is the drvPath in
 * {@code spec.drvPath}, which whoever creates images writes; the build pod cannot vouch for it, since it runs the
 * user's build code (which can rewrite its store's deriver records). So the operator accepts the drvPath only when a
 * job in the image's namespace was evaluated to it from the same expression: a job's evaluation result is written
 * into its status by the report API from the evaluation pod (which evaluates, builds nothing), and job status is
 * writable only by the operator and the report API, as the token records are.
 */
final class EvaluatedProvenance {
  private final KubernetesClient client;
  private final ImageOptions options;

  EvaluatedProvenance(KubernetesClient client, ImageOptions options) {
    this.client = client;
    this.options = options;
  }

  /** Why {@code image}'s drvPath is not vouched for; empty when a job's evaluation gave it (or it has none). */
  Optional<String> problem(NixekMachineImage image) {
    NixekMachineImageSpec spec = image.getSpec();
    if (spec.drvPath == null) {
      return Optional.empty();
    }
    List<NixekJob> jobs = client.resources(NixekJob.class).inNamespace(image.getMetadata().getNamespace()).list()
        .getItems();
    if (jobs.stream().anyMatch(job -> vouches(job, spec, options))) {
      return Optional.empty();
    }
    return Optional.of("no job in namespace " + image.getMetadata().getNamespace() + " was evaluated to "
        + spec.drvPath + " from this image's " + (spec.flake != null ? "flake job" : "expression")
        + ": an image's drvPath is taken only from a job's evaluation, nothing built");
  }

  /**
   * The job's evaluation gave {@code spec}'s drvPath from what {@code spec} builds: the same expression (or flake
   * job), the nixpkgs the evaluation pods are given (the operator's pin) and the evaluated system.
   */
  static boolean vouches(NixekJob job, NixekMachineImageSpec spec, ImageOptions options) {
    if (job.getSpec() == null || job.getStatus() == null || job.getStatus().evaluation == null
        || job.getStatus().evaluation.machine == null
        || !spec.drvPath.equals(job.getStatus().evaluation.machine.drvPath)
        || !ImageIdentity.orDefault(spec.nixpkgs, options.nixpkgs()).equals(options.nixpkgs())
        || !Objects.equals(ImageIdentity.orDefault(spec.system, options.system()),
            job.getStatus().evaluation.machine.system)) {
      return false;
    }
    if (spec.flake != null) {
      return job.getSpec().flake != null && Objects.equals(spec.flake.url, job.getSpec().flake.url)
          && Objects.equals(spec.flake.rev, job.getSpec().flake.rev)
          && Objects.equals(spec.flake.attribute, FlakeRules.attribute(job));
    }
    return spec.nix != null && spec.nix.equals(job.getSpec().nix);
  }
}
