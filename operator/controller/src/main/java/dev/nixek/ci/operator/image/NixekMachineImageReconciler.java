package dev.nixek.ci.operator.image;

import static dev.nixek.ci.common.status.Conditions.FALSE;
import static dev.nixek.ci.common.status.Conditions.READY;
import static dev.nixek.ci.common.status.Conditions.TRUE;
import static dev.nixek.ci.common.status.Conditions.UNKNOWN;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.kube.KubeObjects;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.FieldManagers;
import dev.nixek.ci.operator.status.ImageStatuses;
import dev.nixek.ci.operator.status.StatusWriter;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.aws.AwsErrors;
import dev.nixek.ci.operator.aws.AwsUnavailableException;
import dev.nixek.ci.operator.aws.ImageImporter;
import dev.nixek.ci.operator.aws.ImageImporter.Ami;
import dev.nixek.ci.operator.aws.ImageImporter.ImportProgress;
import dev.nixek.ci.operator.aws.ImageStore;
import dev.nixek.ci.operator.aws.Ec2Tags;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.image.BuilderOutcome.Built;
import dev.nixek.ci.operator.image.BuilderOutcome.Failed;
import dev.nixek.ci.operator.image.BuilderOutcome.Working;
import dev.nixek.ci.operator.image.ImageValidator.InvalidField;
import dev.nixek.ci.operator.pod.OneShotNixPod;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
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
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Reconciles {@link NixekMachineImage}s (docs/images.md): from a machine module to a registered AMI.
 *
 * <p>Each reconcile observes the whole state (status, the builder pod, AWS) and takes the next step: reuse an image
 * of the same identity (a Ready sibling, or an AMI of that name) → run the builder pod → record its result →
 * ImportSnapshot → poll the task by rescheduling (never sleeping) → tag the snapshot → RegisterImage → Ready.
 * Every AWS step is idempotent — the import's ClientToken and the AMI's name are derived from the identity — so a
 * crash between an AWS call and the status write repeats the call and finds the first result. A failed build or
 * import is final for that generation of the spec; changing the spec (e.g. {@code spec.retry}) tries again.
 * Status is written only when it changed. Deleting an image ({@link Cleaner}) deregisters the AMI and deletes the
 * snapshot and the S3 object unless another live image shares them.
 */
@ControllerConfiguration(name = "nixekmachineimage", fieldManager = FieldManagers.OPERATOR)
public class NixekMachineImageReconciler implements Reconciler<NixekMachineImage>, Cleaner<NixekMachineImage> {
  static final String BUILDING = "Building";
  static final String UPLOADING = "Uploading";
  static final String IMPORTING = "Importing";
  static final String REGISTERING = "Registering";
  static final String READY_REASON = "Ready";
  static final String BUILD_FAILED = "BuildFailed";
  static final String IMPORT_FAILED = "ImportFailed";
  static final String INVALID_SPEC = "InvalidSpec";
  /** Index of the primary cache: images by {@link ImageTarget#key()}. */
  static final String IDENTITY_INDEX = "nixek-image-identity";
  /** Index of the primary cache: images by their builder pod ({@code namespace/name}). */
  static final String BUILDER_INDEX = "nixek-image-builder";
  static final int MAX_MESSAGE = 2048;
  /** How long an import task EC2 does not show is taken for eventual consistency. */
  static final Duration TASK_VISIBILITY = Duration.ofMinutes(30);
  private static final Logger LOG = LoggerFactory.getLogger(NixekMachineImageReconciler.class);

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final AwsClients aws;
  private final BuilderPods pods;
  private final EventRecorder events;
  private final Clock clock;
  private final ImageCrashPoints crashPoints;
  private final StatusWriter<NixekMachineImage, NixekMachineImageStatus> statusWriter;
  private final Supplier<String> defaultRegion;
  /** Consecutive failed AWS calls per image (uid), for the retry delay; lost on restart, which is fine. */
  private final Map<String, Integer> awsFailures = new ConcurrentHashMap<>();
  private volatile InformerEventSource<Pod, NixekMachineImage> builderPods;

  public NixekMachineImageReconciler(KubernetesClient client, OperatorConfig config, AwsClients aws,
      EventRecorder events, Clock clock, ImageCrashPoints crashPoints) {
    this.client = client;
    this.config = config;
    this.aws = aws;
    this.pods = new BuilderPods(config.images(), config.aws(), config.clusterId());
    this.events = events;
    this.clock = clock;
    this.crashPoints = crashPoints;
    this.statusWriter = StatusWriter.images(config.useSsa());
    this.defaultRegion = new DefaultRegion(aws);
  }

  @Override
  public List<EventSource<?, NixekMachineImage>> prepareEventSources(EventSourceContext<NixekMachineImage> context) {
    IndexerResourceCache<NixekMachineImage> images = context.getPrimaryCache();
    images.addIndexer(IDENTITY_INDEX, image -> target(image).map(t -> List.of(t.key())).orElse(List.of()));
    images.addIndexer(BUILDER_INDEX, image -> target(image)
        .map(t -> List.of(image.getMetadata().getNamespace() + "/" + t.builderName())).orElse(List.of()));
    // a builder pod may serve every image of its identity in its namespace: wake them all
    builderPods = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, NixekMachineImage.class)
        .withName("builder-pods")
        .withLabelSelector(Labels.MANAGED_BY + "=" + Labels.MANAGED_BY_VALUE + "," + Labels.COMPONENT + "="
            + BuilderPods.COMPONENT)
        .withSecondaryToPrimaryMapper(pod -> images.byIndex(BUILDER_INDEX,
                pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName()).stream()
            .map(ResourceID::fromResource).collect(Collectors.toSet()))
        .build(), context);
    return List.of(builderPods);
  }

  @Override
  public UpdateControl<NixekMachineImage> reconcile(NixekMachineImage image, Context<NixekMachineImage> context) {
    Pass pass = new Pass(context, image);
    long generation = generation(image);
    Optional<InvalidField> invalid = ImageValidator.validate(image.getSpec(), config.images(), defaultRegion.get());
    if (invalid.isPresent()) {
      pass.next.observedGeneration = generation;
      pass.ready(FALSE, INVALID_SPEC, "invalid image, nothing built: " + invalid.get().message(),
          EventReason.InvalidSpec);
      return pass.finish(null);
    }
    ImageTarget t = ImageTarget.of(image.getSpec(), config.images(), defaultRegion.get(), config.clusterId());
    if (!t.id().hash().equals(pass.next.imageHash) || !t.region().equals(pass.next.region)) {
      // a new identity (or region) is a new image: nothing of the old one's progress applies
      // (and a failure of the old identity is not this one's)
      NixekMachineImageStatus fresh = new NixekMachineImageStatus();
      fresh.imageHash = t.id().hash();
      fresh.region = t.region();
      fresh.observedGeneration = generation;
      fresh.conditions = Conditions.with(pass.next.conditions, READY, UNKNOWN, BUILDING, "image " + t.id().shortHash()
          + " is new", generation, clock.instant());
      pass.next = fresh;
    }
    pass.next.observedGeneration = generation;
    pass.next.amiName = t.amiName();
    Optional<Condition> ready = Conditions.find(pass.next.conditions, READY);

    if (ready.isPresent() && FALSE.equals(ready.get().getStatus())
        && (BUILD_FAILED.equals(ready.get().getReason()) || IMPORT_FAILED.equals(ready.get().getReason()))) {
      if (Objects.equals(ready.get().getObservedGeneration(), generation)) {
        return pass.finish(null); // final for this generation: no blind retries
      }
      if (BUILD_FAILED.equals(ready.get().getReason())) {
        Optional<Pod> failedPod = builderPod(image, t).filter(p -> !(BuilderResults.of(p) instanceof Working));
        if (failedPod.isPresent()) {
          // pods are immutable and run once: the failed one goes first, and until it has gone the failure stands
          // (a running pod of this identity, started again by a sibling, is followed instead)
          client.pods().resource(failedPod.get()).withGracePeriod(0).delete();
          return pass.finish(config.images().pollMin());
        }
        pass.next.builderPod = null;
      } else {
        // a new attempt gets a new ClientToken; recorded before the call so that a crash cannot fork it
        pass.next.importAttempt = importAttempt(pass.next) + 1;
        pass.next.importTaskId = null;
        pass.next.importStartTime = null;
        pass.next.snapshotId = null;
        pass.ready(UNKNOWN, IMPORTING, "retrying the import (attempt " + pass.next.importAttempt + ")", null);
        pass.persist();
      }
    }
    if (pass.next.imageId != null) {
      pass.ready(TRUE, READY_REASON, ready.map(Condition::getMessage).orElse("image " + pass.next.imageId), null);
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
      String reason = Conditions.find(pass.next.conditions, READY).filter(c -> UNKNOWN.equals(c.getStatus()))
          .map(Condition::getReason).orElse(BUILDING);
      pass.ready(UNKNOWN, reason, "an AWS call failed, retrying: " + AwsErrors.describe(e), null);
      return pass.finish(retryDelay(failures));
    }
  }

  /** Takes the image as far as it goes now; AWS errors propagate to the caller's retry. */
  private UpdateControl<NixekMachineImage> advance(Pass pass, ImageTarget t) {
    NixekMachineImageStatus next = pass.next;
    if (next.s3Uri == null && next.importTaskId == null) {
      Optional<NixekMachineImage> sibling = siblings(pass.context, pass.image, t)
          .filter(o -> isReady(o.getStatus())).findFirst();
      if (sibling.isPresent()) {
        NixekMachineImageStatus s = sibling.get().getStatus();
        adoptBuild(next, s);
        next.importAttempt = s.importAttempt;
        next.importTaskId = s.importTaskId;
        next.importStartTime = s.importStartTime;
        next.snapshotId = s.snapshotId;
        return ready(pass, s.imageId, "reusing " + s.imageId + " of NixekMachineImage "
            + ResourceID.fromResource(sibling.get()) + " (same identity)");
      }
      if (next.builderPod == null) {
        // built before, by an image since deleted or in another namespace: the AMI's name is the cache key
        Optional<Ami> ami = importer(t).findByName(t.amiName());
        if (ami.isPresent() && ami.get().available()) {
          next.snapshotId = ami.get().snapshotIds().isEmpty() ? null : ami.get().snapshotIds().get(0);
          return ready(pass, ami.get().imageId(), "reusing " + ami.get().imageId() + " (" + t.amiName()
              + "), registered earlier for this identity");
        }
      }
      siblings(pass.context, pass.image, t).map(NixekMachineImage::getStatus).filter(s -> s.s3Uri != null).findFirst()
          .ifPresent(s -> adoptBuild(next, s));
    }
    if (next.s3Uri == null) {
      Optional<UpdateControl<NixekMachineImage>> waiting = build(pass, t);
      if (waiting.isPresent()) {
        return waiting.get();
      }
    }
    if (next.snapshotId == null) {
      Optional<UpdateControl<NixekMachineImage>> waiting = importSnapshot(pass, t);
      if (waiting.isPresent()) {
        return waiting.get();
      }
    }
    return register(pass, t);
  }

  /** Runs the builder pod; empty once its result is recorded. */
  private Optional<UpdateControl<NixekMachineImage>> build(Pass pass, ImageTarget t) {
    NixekMachineImage image = pass.image;
    Optional<Pod> existing = builderPod(image, t);
    if (existing.isEmpty()) {
      startBuilder(pass.context, image, t);
      boolean restarted = pass.next.builderPod != null;
      pass.next.builderPod = t.builderName();
      pass.ready(UNKNOWN, BUILDING, "builder pod " + t.builderName() + (restarted ? " was gone; started again"
          : " started"), null);
      events.record(image, EventReason.BuildStarted, "started builder pod " + t.builderName() + " for image "
          + t.id().shortHash());
      return Optional.of(pass.finish(config.images().pollMax()));
    }
    pass.next.builderPod = t.builderName();
    BuilderOutcome outcome = BuilderResults.of(existing.get());
    if (outcome instanceof Working w) {
      if (!w.started()) {
        pass.ready(UNKNOWN, BUILDING, "builder pod " + t.builderName() + " is pending", null);
      } else if (uploading(t)) {
        pass.ready(UNKNOWN, UPLOADING, "builder pod " + t.builderName() + " is uploading the image to s3://"
            + t.bucket() + "/" + ImageNames.objectPrefix(config.images().keyPrefix(), config.clusterId(), t.id()),
            null);
      } else {
        pass.ready(UNKNOWN, BUILDING, "builder pod " + t.builderName() + " is building the image", null);
      }
      return Optional.of(pass.finish(config.images().pollMin()));
    }
    if (outcome instanceof Failed f) {
      pass.ready(FALSE, BUILD_FAILED, failureMessage("builder pod " + t.builderName() + ": " + f.error(),
          f.logTail()), EventReason.BuildFailed);
      return Optional.of(pass.finish(null));
    }
    Built b = (Built) outcome;
    pass.next.s3Uri = b.s3Uri();
    pass.next.sha256 = b.sha256();
    pass.next.sizeBytes = b.size();
    pass.next.drvPath = b.drvPath();
    pass.next.diskFormat = b.format();
    pass.next.bootMode = b.bootMode();
    pass.ready(UNKNOWN, IMPORTING, "built and uploaded " + b.s3Uri() + " (" + b.size() + " bytes)", null);
    pass.persist(); // the build result outlives the pod: recorded before anything is asked of EC2
    return Optional.empty();
  }

  private void startBuilder(Context<NixekMachineImage> context, NixekMachineImage image, ImageTarget t) {
    String ns = image.getMetadata().getNamespace();
    KubeObjects.createIfAbsent(() -> client.configMaps().inNamespace(ns)
        .resource(pods.configMap(image, t.id(), t.builderName())).create());
    Pod pod = pods.pod(image, t.id(), t.builderName(), t.region(), t.bucket());
    if (OneShotNixPod.create(context, pod, builderPods)) {
      LOG.info("image {}: started builder pod {}", ResourceID.fromResource(image), t.builderName());
    }
  }

  /** Starts the import, or follows the started one; empty once the snapshot is recorded. */
  private Optional<UpdateControl<NixekMachineImage>> importSnapshot(Pass pass, ImageTarget t) {
    NixekMachineImageStatus next = pass.next;
    ImageImporter ec2 = importer(t);
    Instant now = clock.instant();
    if (next.importTaskId == null) {
      int attempt = Math.max(importAttempt(next), siblings(pass.context, pass.image, t)
          .mapToInt(o -> importAttempt(o.getStatus())).max().orElse(1));
      ImageStore.Location object = ImageStore.Location.parse(next.s3Uri);
      String taskId = ec2.startImport(new ImageImporter.ImportRequest(
          ImageNames.importToken(config.clusterId(), t.id(), t.region(), next.s3Uri, attempt),
          object.bucket(), object.key(), next.diskFormat, config.images().importRole(),
          "nixek-ci image " + t.id().shortHash(), tags(pass.image, t)));
      crashPoints.reached(ImageCrashPoints.Point.IMPORT_STARTED, pass.image);
      next.importAttempt = attempt;
      next.importTaskId = taskId;
      next.importStartTime = now.truncatedTo(ChronoUnit.SECONDS).toString();
      pass.ready(UNKNOWN, IMPORTING, "import task " + taskId + " started", EventReason.ImportStarted);
      return Optional.of(pass.finish(config.images().pollMin()));
    }
    ImportProgress p = ec2.describeImport(next.importTaskId);
    switch (p.state()) {
      case FAILED -> {
        pass.ready(FALSE, IMPORT_FAILED, "import task " + next.importTaskId + " failed: "
            + Objects.requireNonNullElse(p.statusMessage(), "(no message)"), EventReason.ImportFailed);
        return Optional.of(pass.finish(null));
      }
      case COMPLETED -> {
        // ImportSnapshot cannot tag the snapshot it makes: tag it now (idempotent), then record it
        ec2.tag(p.snapshotId(), tags(pass.image, t));
        next.snapshotId = p.snapshotId();
        pass.ready(UNKNOWN, REGISTERING, "import task " + next.importTaskId + " made snapshot " + p.snapshotId(),
            null);
        pass.persist();
        return Optional.empty();
      }
      case NOT_FOUND -> {
        // right after ImportSnapshot that is EC2's eventual consistency; much later, the task is gone for good
        // (EC2 shows finished tasks for 7 days)
        Instant started = next.importStartTime == null ? now : Instant.parse(next.importStartTime);
        if (started.plus(TASK_VISIBILITY).isBefore(now)) {
          pass.ready(FALSE, IMPORT_FAILED, "import task " + next.importTaskId + " is unknown to EC2 "
              + TASK_VISIBILITY.toMinutes() + " minutes after it started", EventReason.ImportFailed);
          return Optional.of(pass.finish(null));
        }
        pass.ready(UNKNOWN, IMPORTING, "import task " + next.importTaskId + " started; EC2 does not show it yet",
            null);
        return Optional.of(pass.finish(pollDelay(next.importStartTime, now)));
      }
      default -> {
        String progress = p.progress() == null ? "" : " " + p.progress() + "%";
        String status = p.statusMessage() == null ? "" : ": " + p.statusMessage();
        pass.ready(UNKNOWN, IMPORTING, "import task " + next.importTaskId + status + progress, null);
        return Optional.of(pass.finish(pollDelay(next.importStartTime, now)));
      }
    }
  }

  /** Registers the AMI, looking its name up first: a crash after RegisterImage must not make a second one. */
  private UpdateControl<NixekMachineImage> register(Pass pass, ImageTarget t) {
    NixekMachineImageStatus next = pass.next;
    ImageImporter ec2 = importer(t);
    Optional<Ami> ami = ec2.findByName(t.amiName());
    if (ami.isEmpty()) {
      String bootMode = next.bootMode != null ? next.bootMode
          : t.id().system().startsWith("aarch64") ? "uefi" : "legacy-bios";
      String imageId = ec2.register(new ImageImporter.RegisterRequest(t.amiName(),
          "nixek-ci machine image " + t.id().hash(), t.architecture(), bootMode, next.snapshotId,
          t.id().diskSizeGiB(), tags(pass.image, t)));
      crashPoints.reached(ImageCrashPoints.Point.IMAGE_REGISTERED, pass.image);
      LOG.info("image {}: registered {} as {}", ResourceID.fromResource(pass.image), t.amiName(), imageId);
      next.bootMode = bootMode;
      ami = ec2.findByName(t.amiName());
    }
    if (ami.isPresent() && ami.get().available()) {
      return ready(pass, ami.get().imageId(), "registered " + ami.get().imageId() + " (" + t.amiName() + ")");
    }
    pass.ready(UNKNOWN, REGISTERING, "AMI " + t.amiName() + " is registered"
        + ami.map(a -> " (" + a.imageId() + ", " + a.state() + ")").orElse("") + "; waiting until it is available",
        null);
    return pass.finish(config.images().pollMin());
  }

  private UpdateControl<NixekMachineImage> ready(Pass pass, String imageId, String message) {
    pass.next.imageId = imageId;
    pass.next.readyTime = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    pass.ready(TRUE, READY_REASON, message, EventReason.ImageReady);
    return pass.finish(null);
  }

  @Override
  public DeleteControl cleanup(NixekMachineImage image, Context<NixekMachineImage> context) {
    awsFailures.remove(image.getMetadata().getUid());
    NixekMachineImageStatus s = image.getStatus();
    if (s == null || s.imageHash == null || s.region == null) {
      return DeleteControl.defaultDelete();
    }
    Optional<NixekMachineImage> sharer = sharers(context, image).findFirst();
    if (sharer.isPresent()) {
      LOG.info("image {} deleted; its AMI, snapshot and S3 object stay: {} shares them", ResourceID.fromResource(image),
          ResourceID.fromResource(sharer.get()));
      return DeleteControl.defaultDelete();
    }
    try {
      ImageImporter ec2 = new ImageImporter(aws.ec2(s.region));
      Set<String> amis = new LinkedHashSet<>();
      Set<String> snapshots = new LinkedHashSet<>();
      if (s.imageId != null) {
        amis.add(s.imageId);
      }
      if (s.amiName != null) {
        // registered, but the operator may have died before recording it
        ec2.findByName(s.amiName).ifPresent(a -> {
          amis.add(a.imageId());
          snapshots.addAll(a.snapshotIds());
        });
      }
      if (s.snapshotId != null) {
        snapshots.add(s.snapshotId);
      }
      if (s.importTaskId != null) {
        ImportProgress p = ec2.describeImport(s.importTaskId);
        if (p.snapshotId() != null) {
          snapshots.add(p.snapshotId());
        }
      }
      for (String id : amis) {
        ec2.deregister(id);
      }
      for (String id : snapshots) {
        if (ec2.deleteSnapshot(id) == ImageImporter.DeleteResult.IN_USE) {
          // the deregistration has not reached the snapshot yet
          return DeleteControl.noFinalizerRemoval().rescheduleAfter(config.images().pollMin());
        }
      }
      if (s.s3Uri != null) {
        // a running import of it then fails, and leaves no snapshot behind
        new ImageStore(aws.s3(s.region)).delete(ImageStore.Location.parse(s.s3Uri));
      }
      LOG.info("image {} deleted: deregistered {}, deleted snapshots {} and {}", ResourceID.fromResource(image), amis,
          snapshots, s.s3Uri);
      return DeleteControl.defaultDelete();
    } catch (SdkException | AwsUnavailableException e) {
      int failures = awsFailures.merge(image.getMetadata().getUid(), 1, Integer::sum);
      LOG.warn("image {}: cleaning up failed, retrying: {}", ResourceID.fromResource(image), AwsErrors.describe(e));
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(retryDelay(failures));
    }
  }

  /** Live images that use what {@code image} made: the same identity and region, or the same AWS resources. */
  private Stream<NixekMachineImage> sharers(Context<NixekMachineImage> context, NixekMachineImage image) {
    NixekMachineImageStatus s = image.getStatus();
    String key = ImageTarget.key(s.imageHash, s.region);
    return context.getPrimaryCache().list()
        .filter(o -> !o.getMetadata().getUid().equals(image.getMetadata().getUid()))
        .filter(o -> o.getMetadata().getDeletionTimestamp() == null)
        .filter(o -> {
          NixekMachineImageStatus os = o.getStatus();
          boolean sameStatus = os != null && (key.equals(ImageTarget.key(os.imageHash, os.region))
              || same(s.imageId, os.imageId) || same(s.snapshotId, os.snapshotId) || same(s.s3Uri, os.s3Uri));
          return sameStatus || target(o).map(t -> t.key().equals(key)).orElse(false);
        });
  }

  /** Live images of the same identity and region whose status is of that identity. */
  private Stream<NixekMachineImage> siblings(Context<NixekMachineImage> context, NixekMachineImage image,
      ImageTarget t) {
    return context.getPrimaryCache().byIndex(IDENTITY_INDEX, t.key()).stream()
        .filter(o -> !o.getMetadata().getUid().equals(image.getMetadata().getUid()))
        .filter(o -> o.getMetadata().getDeletionTimestamp() == null)
        .filter(o -> o.getStatus() != null && t.id().hash().equals(o.getStatus().imageHash)
            && t.region().equals(o.getStatus().region));
  }

  private Optional<Pod> builderPod(NixekMachineImage image, ImageTarget t) {
    return builderPods.get(new ResourceID(t.builderName(), image.getMetadata().getNamespace()));
  }

  private boolean uploading(ImageTarget t) {
    try {
      return new ImageStore(aws.s3(t.region())).uploading(t.bucket(),
          ImageNames.objectPrefix(config.images().keyPrefix(), config.clusterId(), t.id()));
    } catch (SdkException e) {
      // only a progress hint: not being able to tell is no reason to stop
      LOG.debug("cannot list uploads in {}: {}", t.bucket(), e.toString());
      return false;
    }
  }

  private ImageImporter importer(ImageTarget t) {
    return new ImageImporter(aws.ec2(t.region()));
  }

  private Map<String, String> tags(NixekMachineImage image, ImageTarget t) {
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put(Ec2Tags.NAME, t.amiName());
    tags.put(Ec2Tags.IMAGE_HASH, t.id().hash());
    tags.put(Ec2Tags.CLUSTER_ID, config.clusterId());
    tags.put(Ec2Tags.MANAGED_BY, Ec2Tags.MANAGED_BY_VALUE);
    tags.put(Ec2Tags.IMAGE, image.getMetadata().getNamespace() + "/" + image.getMetadata().getName());
    return tags;
  }

  private Optional<ImageTarget> target(NixekMachineImage image) {
    String region = defaultRegion.get();
    if (ImageValidator.validate(image.getSpec(), config.images(), region).isPresent()) {
      return Optional.empty();
    }
    return Optional.of(ImageTarget.of(image.getSpec(), config.images(), region, config.clusterId()));
  }

  /** Polls slow down as the import ages: a quarter of its age, within the configured bounds. */
  Duration pollDelay(String importStartTime, Instant now) {
    Duration age = importStartTime == null ? Duration.ZERO : Duration.between(Instant.parse(importStartTime), now);
    return clamp(age.dividedBy(4));
  }

  Duration retryDelay(int failures) {
    return clamp(config.images().pollMin().multipliedBy(1L << Math.min(failures - 1, 16)));
  }

  private Duration clamp(Duration d) {
    Duration min = config.images().pollMin();
    Duration max = config.images().pollMax();
    return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
  }

  private static void adoptBuild(NixekMachineImageStatus next, NixekMachineImageStatus from) {
    next.s3Uri = from.s3Uri;
    next.sha256 = from.sha256;
    next.sizeBytes = from.sizeBytes;
    next.drvPath = from.drvPath;
    next.diskFormat = from.diskFormat;
    next.bootMode = from.bootMode;
  }

  static boolean isReady(NixekMachineImageStatus s) {
    return s != null && s.imageId != null
        && Conditions.find(s.conditions, READY).map(c -> TRUE.equals(c.getStatus())).orElse(false);
  }

  private static int importAttempt(NixekMachineImageStatus s) {
    return s == null || s.importAttempt == null ? 1 : s.importAttempt;
  }

  private static boolean same(String a, String b) {
    return a != null && a.equals(b);
  }

  private static long generation(HasMetadata r) {
    return r.getMetadata().getGeneration() == null ? 0 : r.getMetadata().getGeneration();
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

  /** One reconcile's view: the image as last written, the status being computed, and how to write it. */
  private final class Pass {
    final Context<NixekMachineImage> context;
    NixekMachineImage image;
    NixekMachineImageStatus next;

    Pass(Context<NixekMachineImage> context, NixekMachineImage image) {
      this.context = context;
      this.image = image;
      this.next = ImageStatuses.copy(image.getStatus());
    }

    /** Sets Ready; records {@code event} when the condition's reason or message changes. */
    void ready(String status, String reason, String message, EventReason event) {
      Optional<Condition> old = Conditions.find(next.conditions, READY);
      boolean changed = old.isEmpty() || !Objects.equals(old.get().getStatus(), status)
          || !Objects.equals(old.get().getReason(), reason) || !Objects.equals(old.get().getMessage(), message);
      next.conditions = Conditions.with(next.conditions, READY, status, reason, message, next.observedGeneration,
          clock.instant());
      if (changed && event != null) {
        events.record(image, event, message);
      }
    }

    /** Writes the status now (if it changed): what AWS did must be on record before the next step. */
    void persist() {
      if (!ImageStatuses.same(image.getStatus(), next)) {
        image = statusWriter.write(context, image, next);
      }
    }

    UpdateControl<NixekMachineImage> finish(Duration reschedule) {
      persist();
      UpdateControl<NixekMachineImage> control = UpdateControl.noUpdate();
      return reschedule == null ? control : control.rescheduleAfter(reschedule);
    }
  }

  /**
   * The operator's default region ("" for none), resolved on first use and then kept: the configuration and the
   * environment are fixed for the process, and the SDK's chain may ask EC2's metadata service, which is slow to
   * fail where it does not exist.
   */
  private static final class DefaultRegion implements Supplier<String> {
    private final AwsClients aws;
    private volatile String region;

    DefaultRegion(AwsClients aws) {
      this.aws = aws;
    }

    @Override
    public String get() {
      String r = region;
      if (r == null) {
        try {
          r = aws.defaultRegion();
        } catch (AwsUnavailableException e) {
          LOG.warn("no default AWS region ({}); images must name spec.region", e.getMessage());
          r = "";
        }
        region = r;
      }
      return r;
    }
  }
}
