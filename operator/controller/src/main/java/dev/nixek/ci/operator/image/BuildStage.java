package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.aws.ImageStore;
import dev.nixek.ci.common.kube.KubeObjects;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.pod.ApiRefusals;
import dev.nixek.ci.operator.pod.OneShotNixPod;
import dev.nixek.ci.operator.pod.PodStalls;
import dev.nixek.ci.operator.pod.RetryBackoff;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.image.BuilderOutcome.Built;
import dev.nixek.ci.operator.image.BuilderOutcome.Failed;
import dev.nixek.ci.operator.image.BuilderOutcome.Working;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * The build: runs the builder pod (with its ConfigMap), follows it, and records its result — the uploaded image in
 * S3, or a BuildFailed that is final for the generation. Retrying a failed build deletes the failed pod first. A
 * builder pod the API server refuses, or one Kubernetes keeps pending for a cause it names, leaves the image Building
 * with that cause and a Warning Event (refusals are tried again on {@link RetryBackoff}).
 */
final class BuildStage {
  static final int MAX_MESSAGE = 2048;
  private static final Logger LOG = LoggerFactory.getLogger(BuildStage.class);

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final AwsClients aws;
  private final BuilderPods pods;
  private final ImageUploads uploads;
  private final EvaluatedProvenance provenance;
  private final EventRecorder events;
  private volatile InformerEventSource<Pod, NixekMachineImage> builderPods;
  /** The binary cache around builds; null when the cache is off. */
  private volatile ImageCache cache;

  BuildStage(KubernetesClient client, OperatorConfig config, AwsClients aws, EventRecorder events) {
    this.client = client;
    this.config = config;
    this.aws = aws;
    this.pods = new BuilderPods(config.images(), config.aws(), config.clusterId());
    this.uploads = new ImageUploads(aws, config.images(), config.clusterId());
    this.provenance = new EvaluatedProvenance(client, config.images());
    this.events = events;
  }

  /** Builds substitute from and push to their trust domain's binary cache from now on. */
  void useCache(ImageCache cache) {
    this.cache = cache;
  }

  /** The builder pods' informer; {@code images} is indexed by {@link NixekMachineImageReconciler#BUILDER_INDEX}. */
  InformerEventSource<Pod, NixekMachineImage> eventSource(EventSourceContext<NixekMachineImage> context,
      IndexerResourceCache<NixekMachineImage> images) {
    // a builder pod may serve every image of its identity in its namespace: wake them all
    builderPods = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, NixekMachineImage.class)
        .withName("builder-pods")
        // builder pods run in their image's namespace: only the namespaces the operator watches (JOSDK's default,
        // said here so that it stays so)
        .withNamespacesInheritedFromController()
        .withLabelSelector(Labels.MANAGED_BY + "=" + Labels.MANAGED_BY_VALUE + "," + Labels.COMPONENT + "="
            + BuilderPods.COMPONENT)
        .withSecondaryToPrimaryMapper(pod -> images.byIndex(NixekMachineImageReconciler.BUILDER_INDEX,
                pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName()).stream()
            .map(ResourceID::fromResource).collect(Collectors.toSet()))
        .build(), context);
    return builderPods;
  }

  /**
   * Prepares another build after a BuildFailed of an earlier generation; a pass that waits for the failed pod to
   * go, or empty when the build can start again.
   */
  Optional<UpdateControl<NixekMachineImage>> retry(ImagePass pass, ImageTarget t) {
    Optional<Pod> failedPod = builderPod(pass.image, t).filter(p -> !(BuilderResults.of(p) instanceof Working));
    if (failedPod.isPresent()) {
      // pods are immutable and run once: the failed one goes first, and until it has gone the failure stands
      // (a running pod of this identity, started again by a sibling, is followed instead)
      client.pods().resource(failedPod.get()).withGracePeriod(0).delete();
      return Optional.of(pass.finish(config.images().pollMin()));
    }
    pass.next.builderPod = null;
    return Optional.empty();
  }

  /** Runs the builder pod; empty once its result is recorded. */
  Optional<UpdateControl<NixekMachineImage>> build(ImagePass pass, ImageTarget t) {
    NixekMachineImage image = pass.image;
    Optional<Pod> existing = builderPod(image, t);
    if (existing.isEmpty()) {
      Optional<String> unvouched = provenance.problem(image);
      if (unvouched.isPresent()) {
        pass.ready(ConditionReason.BuildFailed, unvouched.get(), EventReason.BuildFailed);
        return Optional.of(pass.finish(null));
      }
      try {
        startBuilder(pass.context, image, t);
      } catch (KubernetesClientException e) {
        // a refusal (quota, admission, a missing ServiceAccount) is not the build's failure: wait, say why, try again
        String since = pass.readyCondition().map(c -> c.getLastTransitionTime()).orElse(null);
        pass.ready(ConditionReason.Building, "builder pod " + t.builderName() + " cannot be created: "
            + ApiRefusals.message(e, null), EventReason.BuildPending);
        LOG.warn("image {}: builder pod {} cannot be created: {}", ResourceID.fromResource(image), t.builderName(),
            ApiRefusals.message(e, null));
        return Optional.of(pass.finish(RetryBackoff.after(since, pass.now())));
      }
      boolean restarted = pass.next.builderPod != null;
      pass.next.builderPod = t.builderName();
      pass.ready(ConditionReason.Building, "builder pod " + t.builderName() + (restarted
          ? " was gone; started again" : " started"), null);
      events.record(image, EventReason.BuildStarted, "started builder pod " + t.builderName() + " for image "
          + t.id().shortHash());
      return Optional.of(pass.finish(config.images().pollMax()));
    }
    pass.next.builderPod = t.builderName();
    BuilderOutcome outcome = BuilderResults.of(existing.get());
    if (outcome instanceof Working w) {
      Optional<String> stall = w.started() ? Optional.empty() : PodStalls.of(existing.get(), BuilderPods.CONTAINER);
      if (stall.isPresent()) {
        pass.ready(ConditionReason.Building, "builder pod " + t.builderName() + " " + stall.get(),
            EventReason.BuildPending);
      } else if (!w.started()) {
        pass.ready(ConditionReason.Building, "builder pod " + t.builderName() + " is pending", null);
      } else if (uploading(t, existing.get())) {
        pass.ready(ConditionReason.Uploading, "builder pod " + t.builderName() + " is uploading the image to s3://"
            + t.bucket() + "/" + uploads.key(t), null);
      } else {
        pass.ready(ConditionReason.Building, "builder pod " + t.builderName() + " is building the image", null);
      }
      return Optional.of(pass.finish(config.images().pollMin()));
    }
    if (outcome instanceof Failed f) {
      endUpload(existing.get(), t, true);
      abandonCache(existing.get());
      pass.ready(ConditionReason.BuildFailed, failureMessage("builder pod " + t.builderName() + ": " + f.error(),
          f.logTail()), EventReason.BuildFailed);
      return Optional.of(pass.finish(null));
    }
    Built b = (Built) outcome;
    // the pod ran the user's code: its result is a claim, checked against what it was given before anything of it
    // is recorded (the upload is completed by the operator, from S3's list of parts)
    Optional<String> refused = ImageUploads.mismatch(b, t.bucket(), uploads.key(t))
        .or(() -> uploadId(existing.get()).map(id -> uploads.complete(t, id, b))
            .orElse(Optional.of("the builder pod names no upload (annotation " + ImageUploads.UPLOAD_ID_ANNOTATION
                + ")")));
    if (refused.isPresent()) {
      endUpload(existing.get(), t, true);
      abandonCache(existing.get());
      pass.ready(ConditionReason.BuildFailed, "builder pod " + t.builderName() + ": " + refused.get(),
          EventReason.BuildFailed);
      return Optional.of(pass.finish(null));
    }
    endUpload(existing.get(), t, false);
    pass.next.s3Uri = b.s3Uri();
    pass.next.sha256 = b.sha256();
    pass.next.sizeBytes = b.size();
    pass.next.drvPath = b.drvPath();
    pass.next.diskFormat = b.format();
    pass.next.bootMode = b.bootMode();
    pass.next.nixVersion = b.nixVersion();
    pass.ready(ConditionReason.Importing, "built and uploaded " + b.s3Uri() + " (" + b.size() + " bytes)", null);
    pass.persist(); // the build result outlives the pod: recorded before anything is asked of EC2
    ImageCache c = cache;
    if (c != null) {
      // after the record: the publish runs beside the import and never changes the image's outcome
      c.built(image, existing.get(), b);
    }
    return Optional.empty();
  }

  private void startBuilder(Context<NixekMachineImage> context, NixekMachineImage image, ImageTarget t) {
    String ns = image.getMetadata().getNamespace();
    KubeObjects.createIfAbsent(() -> client.configMaps().inNamespace(ns)
        .resource(pods.configMap(image, t.id(), t.builderName())).create());
    ImageUploads.Grant grant = uploads.open(image, t);
    Secret grantSecret = uploads.secret(image, t, grant);
    Pod builder = pods.pod(image, t.id(), t.builderName(), grant.bucket(), grant.key(),
        grantSecret.getMetadata().getName());
    ImageCache c = cache;
    ImageCache.Prepared prepared = c == null ? new ImageCache.Prepared(grantSecret, builder)
        : c.prepare(image, grantSecret, builder);
    Secret secret = prepared.secret();
    KubeObjects.createIfAbsent(() -> client.secrets().inNamespace(ns).resource(secret).create());
    Pod pod = prepared.pod();
    pod.getMetadata().getAnnotations().put(ImageUploads.UPLOAD_ID_ANNOTATION, grant.uploadId());
    if (OneShotNixPod.create(context, pod, builderPods)) {
      LOG.info("image {}: started builder pod {}", ResourceID.fromResource(image), t.builderName());
    } else {
      // a sibling of the same identity started the shared pod first: its grant is the one in use
      client.secrets().inNamespace(ns).resource(secret).delete();
      uploads.abort(t, grant.uploadId());
      abandonCache(pod);
    }
  }

  private void abandonCache(Pod pod) {
    ImageCache c = cache;
    if (c != null) {
      c.abandon(pod);
    }
  }

  private static Optional<String> uploadId(Pod pod) {
    return Optional.ofNullable(pod.getMetadata().getAnnotations())
        .map(a -> a.get(ImageUploads.UPLOAD_ID_ANNOTATION)).filter(s -> !s.isBlank());
  }

  /** The pod is done: its grant goes, and an upload that will not be completed is aborted. */
  private void endUpload(Pod pod, ImageTarget t, boolean abort) {
    if (abort) {
      try {
        uploadId(pod).ifPresent(id -> uploads.abort(t, id));
      } catch (SdkException e) {
        LOG.debug("cannot abort the upload of {}: {}", t.builderName(), e.toString());
      }
    }
    pod.getSpec().getVolumes().stream().filter(v -> BuilderPods.UPLOAD_VOLUME.equals(v.getName()))
        .filter(v -> v.getSecret() != null).findFirst()
        .ifPresent(v -> client.secrets().inNamespace(pod.getMetadata().getNamespace())
            .withName(v.getSecret().getSecretName()).delete());
  }

  private Optional<Pod> builderPod(NixekMachineImage image, ImageTarget t) {
    return builderPods.get(new ResourceID(t.builderName(), image.getMetadata().getNamespace()));
  }

  private boolean uploading(ImageTarget t, Pod pod) {
    try {
      // the upload exists from the pod's start (the operator made it): uploading once it holds a part
      Optional<String> id = uploadId(pod);
      return id.isPresent() && !aws.s3(t.region()).listParts(b -> b.bucket(t.bucket()).key(uploads.key(t))
          .uploadId(id.get()).maxParts(1)).parts().isEmpty();
    } catch (SdkException e) {
      // only a progress hint: not being able to tell is no reason to stop
      LOG.debug("cannot list uploads in {}: {}", t.bucket(), e.toString());
      return false;
    }
  }

  /** The error and the end of the log, bounded: a condition message is for reading, not for the whole log. */
  static String failureMessage(String error, String logTail) {
    String tail = logTail == null ? "" : logTail.strip();
    int room = MAX_MESSAGE - error.length() - 16;
    if (tail.isEmpty() || room < 80) {
      return error.length() > MAX_MESSAGE ? error.substring(0, MAX_MESSAGE - 1) + "…" : error;
    }
    if (tail.length() > room) {
      tail = "…" + tail.substring(tail.length() - room + 1);
    }
    return error + "; log tail:\n" + tail;
  }
}
