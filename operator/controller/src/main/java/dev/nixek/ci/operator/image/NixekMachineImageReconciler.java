package dev.nixek.ci.operator.image;

import dev.nixek.ci.operator.metrics.ImageMetrics;
import static dev.nixek.ci.common.status.Conditions.FALSE;
import static dev.nixek.ci.common.status.Conditions.UNKNOWN;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.FieldManagers;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.aws.AwsErrors;
import dev.nixek.ci.operator.aws.AwsUnavailableException;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.image.ImageValidator.InvalidField;
import dev.nixek.ci.operator.status.StatusWriter;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Reconciles {@link NixekMachineImage}s (docs/images.md): from a machine module to a registered AMI.
 *
 * <p>Each reconcile observes the whole state (status, the builder pod, AWS) and takes the next step: reuse an image
 * of the same identity ({@link SiblingImages}) → run the builder pod and record its result ({@link BuildStage}) →
 * ImportSnapshot, polled by rescheduling, and tag the snapshot ({@link ImportStage}) → RegisterImage → Ready
 * ({@link RegisterStage}). Every AWS step is idempotent — the import's ClientToken and the AMI's name are derived
 * from the identity — so a crash between an AWS call and the status write repeats the call and finds the first
 * result. A failed build or import is final for that generation of the spec; changing the spec (e.g.
 * {@code spec.retry}) tries again. Status is written only when it changed ({@link ImagePass}). Deleting an image
 * ({@link Cleaner}) deregisters the AMI and deletes the snapshot and the S3 object unless another live image shares
 * them ({@link ImageDeletionPlan}, carried out by {@link ImageDeletion}).
 */
@ControllerConfiguration(name = "nixekmachineimage", fieldManager = FieldManagers.OPERATOR)
public class NixekMachineImageReconciler implements Reconciler<NixekMachineImage>, Cleaner<NixekMachineImage> {
  /** Index of the primary cache: images by {@link ImageTarget#key()}. */
  static final String IDENTITY_INDEX = "nixek-image-identity";
  /** Index of the primary cache: images by their builder pod ({@code namespace/name}). */
  static final String BUILDER_INDEX = "nixek-image-builder";
  private static final Logger LOG = LoggerFactory.getLogger(NixekMachineImageReconciler.class);

  private final EventRecorder events;
  private final ImageMetrics metrics;
  private final Clock clock;
  private final StatusWriter<NixekMachineImage, NixekMachineImageStatus> statusWriter;
  private final ImageTargets targets;
  private final ImageDelays delays;
  private final SiblingImages siblings;
  private final BuildStage build;
  private final ImportStage imports;
  private final RegisterStage registration;
  private final ImageDeletion deletion;
  /** Consecutive failed AWS calls per image (uid), for the retry delay; lost on restart, which is fine. */
  private final Map<String, Integer> awsFailures = new ConcurrentHashMap<>();

  /** Builds push to and substitute from their trust domain's binary cache (docs/images.md#binary-cache). */
  void useCache(ImageCache cache) {
    build.useCache(cache);
  }

  public NixekMachineImageReconciler(KubernetesClient client, OperatorConfig config, AwsClients aws,
      EventRecorder events, Clock clock, ImageCrashPoints crashPoints) {
    this(client, config, aws, events, clock, crashPoints, ImageMetrics.unregistered());
  }

  public NixekMachineImageReconciler(KubernetesClient client, OperatorConfig config, AwsClients aws,
      EventRecorder events, Clock clock, ImageCrashPoints crashPoints, ImageMetrics metrics) {
    this.metrics = metrics;
    this.events = events;
    this.clock = clock;
    this.statusWriter = StatusWriter.images(config.useSsa());
    this.targets = new ImageTargets(config, aws);
    this.delays = ImageDelays.of(config.images());
    this.siblings = new SiblingImages(aws);
    this.build = new BuildStage(client, config, aws, events);
    this.imports = new ImportStage(config, aws, clock, crashPoints);
    this.registration = new RegisterStage(config, aws, crashPoints);
    this.deletion = new ImageDeletion(config, aws, targets);
  }

  @Override
  public List<EventSource<?, NixekMachineImage>> prepareEventSources(EventSourceContext<NixekMachineImage> context) {
    IndexerResourceCache<NixekMachineImage> images = context.getPrimaryCache();
    images.addIndexer(IDENTITY_INDEX, image -> targets.find(image).map(t -> List.of(t.key())).orElse(List.of()));
    images.addIndexer(BUILDER_INDEX, image -> targets.find(image)
        .map(t -> List.of(image.getMetadata().getNamespace() + "/" + t.builderName())).orElse(List.of()));
    return List.of(build.eventSource(context, images));
  }

  @Override
  public UpdateControl<NixekMachineImage> reconcile(NixekMachineImage image, Context<NixekMachineImage> context) {
    ImagePass pass = new ImagePass(context, image, clock, events, statusWriter, metrics);
    long generation = image.getMetadata().getGeneration() == null ? 0 : image.getMetadata().getGeneration();
    Optional<InvalidField> invalid = targets.invalid(image);
    if (invalid.isPresent()) {
      pass.next.observedGeneration = generation;
      pass.ready(ConditionReason.InvalidSpec, "invalid image, nothing built: " + invalid.get().message(),
          EventReason.InvalidSpec);
      return pass.finish(null);
    }
    ImageTarget t = targets.of(image);
    pass.target(t, generation);
    Optional<Condition> ready = pass.readyCondition();
    Optional<UpdateControl<NixekMachineImage>> failed = retryAfterFailure(pass, t, ready.orElse(null), generation);
    if (failed.isPresent()) {
      return failed.get();
    }
    if (pass.next.imageId != null) {
      pass.ready(ConditionReason.Ready, ready.map(Condition::getMessage).orElse("image " + pass.next.imageId), null);
      return pass.finish(null);
    }
    try {
      UpdateControl<NixekMachineImage> control = advance(pass, t);
      awsFailures.remove(image.getMetadata().getUid());
      return control;
    } catch (SdkException | AwsUnavailableException e) {
      int failures = awsFailures.merge(image.getMetadata().getUid(), 1, Integer::sum);
      LOG.warn("image {}: AWS call failed ({} in a row), retrying: {}", ResourceID.fromResource(image), failures,
          AwsErrors.describe(e));
      // the step stays what it was; the message says what is in the way
      ConditionReason reason = pass.readyCondition().filter(c -> UNKNOWN.equals(c.getStatus()))
          .flatMap(c -> ConditionReason.parse(c.getReason())).filter(r -> r.status() == ConditionReason.Status.UNKNOWN)
          .orElse(ConditionReason.Building);
      pass.ready(reason, "an AWS call failed, retrying: " + AwsErrors.describe(e), null);
      return pass.finish(delays.retry(failures));
    }
  }

  /**
   * After a BuildFailed or ImportFailed: the end for the generation that failed (no blind retries); for a newer one,
   * the failed step is prepared to run again. Empty when the reconcile goes on.
   */
  private Optional<UpdateControl<NixekMachineImage>> retryAfterFailure(ImagePass pass, ImageTarget t, Condition ready,
      long generation) {
    boolean buildFailed = Conditions.hasReason(ready, ConditionReason.BuildFailed);
    if (ready == null || !FALSE.equals(ready.getStatus())
        || !(buildFailed || Conditions.hasReason(ready, ConditionReason.ImportFailed))) {
      return Optional.empty();
    }
    if (Objects.equals(ready.getObservedGeneration(), generation)) {
      return Optional.of(pass.finish(null));
    }
    if (buildFailed) {
      return build.retry(pass, t);
    }
    imports.retry(pass);
    return Optional.empty();
  }

  /** Takes the image as far as it goes now; AWS errors propagate to the caller's retry. */
  private UpdateControl<NixekMachineImage> advance(ImagePass pass, ImageTarget t) {
    if (pass.next.s3Uri == null && pass.next.importTaskId == null) {
      Optional<UpdateControl<NixekMachineImage>> reused = siblings.reuse(pass, t);
      if (reused.isPresent()) {
        return reused.get();
      }
    }
    if (pass.next.s3Uri == null) {
      Optional<UpdateControl<NixekMachineImage>> waiting = build.build(pass, t);
      if (waiting.isPresent()) {
        return waiting.get();
      }
    }
    if (pass.next.snapshotId == null) {
      Optional<UpdateControl<NixekMachineImage>> waiting = imports.importSnapshot(pass, t);
      if (waiting.isPresent()) {
        return waiting.get();
      }
    }
    return registration.register(pass, t);
  }

  @Override
  public DeleteControl cleanup(NixekMachineImage image, Context<NixekMachineImage> context) {
    awsFailures.remove(image.getMetadata().getUid());
    try {
      return deletion.delete(image, context);
    } catch (SdkException | AwsUnavailableException e) {
      int failures = awsFailures.merge(image.getMetadata().getUid(), 1, Integer::sum);
      LOG.warn("image {}: cleaning up failed, retrying: {}", ResourceID.fromResource(image), AwsErrors.describe(e));
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(delays.retry(failures));
    }
  }
}
