package dev.nixek.ci.operator.image;

import dev.nixek.ci.operator.metrics.ImageMetrics;
import static dev.nixek.ci.common.status.Conditions.READY;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.GitOpsConditions;
import dev.nixek.ci.common.text.ControlChars;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.status.ImageStatuses;
import dev.nixek.ci.operator.status.StatusWriter;
import io.fabric8.kubernetes.api.model.Condition;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.Optional;

/** One reconcile's view of an image: the image as last written, the status being computed, and how to write it. */
final class ImagePass {
  final Context<NixekMachineImage> context;
  NixekMachineImage image;
  NixekMachineImageStatus next;
  private final Clock clock;
  private final EventRecorder events;
  private final StatusWriter<NixekMachineImage, NixekMachineImageStatus> statusWriter;
  private final ImageMetrics metrics;

  ImagePass(Context<NixekMachineImage> context, NixekMachineImage image, Clock clock, EventRecorder events,
      StatusWriter<NixekMachineImage, NixekMachineImageStatus> statusWriter, ImageMetrics metrics) {
    this.metrics = metrics;
    this.context = context;
    this.image = image;
    this.next = ImageStatuses.copy(image.getStatus());
    this.clock = clock;
    this.events = events;
    this.statusWriter = statusWriter;
  }

  /**
   * Makes the status one of {@code t} at {@code generation}: a new identity (or region) is a new image, so nothing
   * of the old one's progress applies (and a failure of the old identity is not this one's).
   */
  void target(ImageTarget t, long generation) {
    if (!t.id().hash().equals(next.imageHash) || !t.region().equals(next.region)) {
      NixekMachineImageStatus fresh = new NixekMachineImageStatus();
      fresh.imageHash = t.id().hash();
      fresh.region = t.region();
      fresh.observedGeneration = generation;
      fresh.conditions = Conditions.with(next.conditions, READY, ConditionReason.Building, "image "
          + t.id().shortHash() + " is new", generation, clock.instant());
      next = fresh;
    }
    next.observedGeneration = generation;
    next.amiName = t.amiName();
  }

  /** The pass's clock reading. */
  java.time.Instant now() {
    return clock.instant();
  }

  /** The Ready condition being computed. */
  Optional<Condition> readyCondition() {
    return Conditions.find(next.conditions, READY);
  }

  /**
   * Sets Ready to {@code reason} (with the condition status it comes with); records {@code event} when the
   * condition's status, reason or message changes.
   */
  void ready(ConditionReason reason, String message, EventReason event) {
    Optional<Condition> old = readyCondition();
    boolean changed = old.isEmpty() || !Objects.equals(old.get().getStatus(), reason.status().value())
        || !Objects.equals(old.get().getReason(), reason.name())
        || !Objects.equals(old.get().getMessage(), ControlChars.escape(message)); // stored escaped
    next.conditions = Conditions.with(next.conditions, READY, reason, message, next.observedGeneration,
        clock.instant());
    if (changed && event != null) {
      events.record(image, event, message);
    }
  }

  /** Records {@code imageId} as the image's AMI and ends the pass Ready. */
  UpdateControl<NixekMachineImage> imageReady(String imageId, String message) {
    next.imageId = imageId;
    next.readyTime = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    ready(ConditionReason.Ready, message, EventReason.ImageReady);
    return finish(null);
  }

  /** Writes the status now (if it changed): what AWS did must be on record before the next step. */
  void persist() {
    // Reconciling and Stalled follow Ready as this pass leaves it (GitOpsConditions)
    next.conditions = GitOpsConditions.forImage(next.conditions, clock.instant());
    if (!statusWriter.same(image.getStatus(), next)) {
      NixekMachineImage before = image;
      image = statusWriter.write(context, image, next);
      metrics.written(before, next, clock.instant());
    }
  }

  /** Writes the status (if it changed) and ends the pass, looking again after {@code reschedule} unless null. */
  UpdateControl<NixekMachineImage> finish(Duration reschedule) {
    persist();
    UpdateControl<NixekMachineImage> control = UpdateControl.noUpdate();
    return reschedule == null ? control : control.rescheduleAfter(reschedule);
  }
}
