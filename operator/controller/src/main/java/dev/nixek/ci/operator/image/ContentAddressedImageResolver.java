package dev.nixek.ci.operator.image;

import dev.nixek.ci.operator.metrics.ImageMetrics;
import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekEvaluatedMachine;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.job.JobForm;
import dev.nixek.ci.common.kube.KubeObjects;
import dev.nixek.ci.operator.config.ImageOptions;
import dev.nixek.ci.common.job.FlakeRules;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves a job's image: {@code spec.machineImageName} as {@link NamedImageResolver} does; an inline
 * {@code spec.machine}, or the machine a job written in Nix evaluated to ({@code status.evaluation.machine}), to the
 * content-addressed NixekMachineImage of that machine — named from its identity ({@link ImageNames#inlineImage}; for
 * an evaluated machine the identity is its drvPath), in the job's namespace, created when missing. Jobs do not own
 * it: images are shared by every job with the same machine, so two jobs whose machines evaluate to one drvPath share
 * one image and one build. {@link InlineImageCollector} deletes one that no job has used for the
 * retention period; a job that uses it removes the collector's mark, which makes the collector's delete (guarded by
 * resourceVersion) fail, so an image is never deleted under a job that just resolved it.
 */
public final class ContentAddressedImageResolver implements ImageResolver {
  /** The component label of images made for inline machines; the collector only ever deletes those. */
  public static final String COMPONENT = "inline-machine";
  /** Set by the collector when no job uses the image; removed when a job resolves it. */
  public static final String UNREFERENCED_SINCE = "ci.nixek.dev/unreferenced-since";
  /** The job whose machine the image was first made for (namespace/name), for people reading it. */
  public static final String CREATED_FOR = "ci.nixek.dev/created-for";
  private static final Logger LOG = LoggerFactory.getLogger(ContentAddressedImageResolver.class);

  private final KubernetesClient client;
  private final ImageOptions options;
  private final NamedImageResolver named;
  private final ImageMetrics metrics;

  public ContentAddressedImageResolver(KubernetesClient client, ImageOptions options) {
    this(client, options, ImageMetrics.unregistered());
  }

  public ContentAddressedImageResolver(KubernetesClient client, ImageOptions options, ImageMetrics metrics) {
    this.metrics = metrics;
    this.client = client;
    this.options = options;
    this.named = new NamedImageResolver(client);
  }

  /**
   * The name of the image a job's inline machine (or evaluated machine) resolves to; empty when the job has none (or
   * names its image, or is not evaluated yet).
   */
  public static Optional<String> inlineImageName(NixekJob job, ImageOptions options) {
    if (job.getSpec() == null || job.getSpec().machineImageName != null) {
      return Optional.empty();
    }
    if (JobForm.needsEvaluation(job.getSpec())) {
      NixekJobEvaluation evaluation = job.getStatus() == null ? null : job.getStatus().evaluation;
      return evaluation == null || evaluation.machine == null ? Optional.empty()
          : Optional.of(ImageNames.inlineImage(ImageIdentity.of(evaluatedSpec(job, evaluation.machine, options),
              options, job.getMetadata().getNamespace())));
    }
    String machine = job.getSpec().machine;
    if (machine == null || machine.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(ImageNames.inlineImage(ImageIdentity.of(spec(machine, options), options,
        job.getMetadata().getNamespace())));
  }

  @Override
  public Resolution resolve(NixekJob job) {
    if (job.getSpec().machineImageName != null) {
      return named.resolve(job);
    }
    if (JobForm.needsEvaluation(job.getSpec())) {
      NixekJobEvaluation evaluation = job.getStatus() == null ? null : job.getStatus().evaluation;
      if (evaluation == null) {
        return new Resolution.Waiting(ConditionReason.Evaluating, "the job's Nix expression is not evaluated yet");
      }
      if (evaluation.machine == null) {
        return new Resolution.Failed(ConditionReason.NoMachine, "the job's Nix expression names no machine, and this "
            + "provider boots every job from a machine image: give the job a 'machine'");
      }
      return getOrCreate(job, evaluatedSpec(job, evaluation.machine, options), "the job's evaluated machine");
    }
    String machine = job.getSpec().machine;
    if (machine == null || machine.isBlank()) {
      return new Resolution.Failed(ConditionReason.InvalidSpec, "spec.machine: is empty");
    }
    if (options.nixpkgs().isEmpty()) {
      return new Resolution.Failed(ConditionReason.ImageFailed, "spec.machine: inline machines are built with the "
          + "operator's default nixpkgs pin, and it has none (NIXEK_IMAGE_NIXPKGS)");
    }
    return getOrCreate(job, spec(machine, options), "the inline machine");
  }

  /** The content-addressed image of {@code spec} in the job's namespace, made when missing. */
  private Resolution getOrCreate(NixekJob job, NixekMachineImageSpec spec, String what) {
    String ns = job.getMetadata().getNamespace();
    ImageIdentity id = ImageIdentity.of(spec, options, ns);
    String name = ImageNames.inlineImage(id);
    var images = client.resources(NixekMachineImage.class).inNamespace(ns);
    NixekMachineImage image = images.withName(name).get();
    if (image == null) {
      NixekMachineImage fresh = new NixekMachineImage();
      fresh.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns)
          .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
          .addToLabels(Labels.COMPONENT, COMPONENT)
          .addToAnnotations(CREATED_FOR, ns + "/" + job.getMetadata().getName())
          .build());
      fresh.setSpec(spec);
      if (KubeObjects.createIfAbsent(() -> images.resource(fresh).create()).isPresent()) {
        LOG.info("job {}/{}: created NixekMachineImage {} for {}", ns, job.getMetadata().getName(), name, what);
        metrics.cacheMiss();
      }
      return new Resolution.Waiting(ConditionReason.WaitingForImage, "NixekMachineImage '" + name + "' (" + what
          + "'s image) is being made");
    }
    if (image.getMetadata().getDeletionTimestamp() != null) {
      return deleting(name);
    }
    if (image.getSpec() == null || !id.hash().equals(ImageIdentity.of(image.getSpec(), options, ns).hash())) {
      return new Resolution.Failed(ConditionReason.ImageFailed, "NixekMachineImage '" + name + "' exists but is not "
          + what + "'s image (its spec differs); delete or rename it");
    }
    Resolution r = named.resolve(image, name);
    if (r instanceof Resolution.Ready && image.getMetadata().getAnnotations() != null
        && image.getMetadata().getAnnotations().containsKey(UNREFERENCED_SINCE)) {
      // used again: unmark it. The write changes its resourceVersion, so a collector that decided on the marked
      // version cannot delete it any more; if the collector was first, the answer shows the deletion.
      try {
        NixekMachineImage touched = images.withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"annotations\":{\"" + UNREFERENCED_SINCE + "\":null}}}");
        if (touched.getMetadata().getDeletionTimestamp() != null) {
          return deleting(name);
        }
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          return deleting(name);
        }
        throw e;
      }
    }
    if (r instanceof Resolution.Ready && !(ns + "/" + job.getMetadata().getName()).equals(
        image.getMetadata().getAnnotations() == null ? null : image.getMetadata().getAnnotations().get(CREATED_FOR))) {
      // a job resolves its image Ready once, as it launches: another job's image, reused
      metrics.cacheHit();
    }
    return r;
  }

  private static Resolution deleting(String name) {
    return new Resolution.Waiting(ConditionReason.WaitingForImage, "NixekMachineImage '" + name + "' is being "
        + "deleted; it is made again once it is gone");
  }

  /**
   * The image spec of a job's evaluated machine: the job's expression (or flake job, its attribute resolved) with the
   * arguments its evaluation had — the operator's nixpkgs pin and the evaluated system — and the drvPath, which is the
   * identity. The builder builds machine.nix with exactly these, and checks it gets that drvPath.
   */
  static NixekMachineImageSpec evaluatedSpec(NixekJob job, NixekEvaluatedMachine machine, ImageOptions options) {
    NixekMachineImageSpec spec = new NixekMachineImageSpec();
    if (job.getSpec().flake != null) {
      NixekJobFlake flake = new NixekJobFlake();
      flake.url = job.getSpec().flake.url;
      flake.rev = job.getSpec().flake.rev;
      flake.attribute = FlakeRules.attribute(job);
      spec.flake = flake;
    } else {
      spec.nix = job.getSpec().nix;
    }
    spec.drvPath = machine.drvPath;
    spec.nixpkgs = options.nixpkgs().isEmpty() ? null : options.nixpkgs();
    spec.system = machine.system;
    return spec;
  }

  /** The image spec of an inline machine: the operator's defaults written out, so that the identity is fixed. */
  static NixekMachineImageSpec spec(String machine, ImageOptions options) {
    NixekMachineImageSpec spec = new NixekMachineImageSpec();
    spec.machine = machine;
    spec.nixpkgs = options.nixpkgs().isEmpty() ? null : options.nixpkgs();
    spec.system = options.system();
    return spec;
  }
}
