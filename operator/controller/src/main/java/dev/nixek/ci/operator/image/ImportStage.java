package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.aws.ImageImporter;
import dev.nixek.ci.operator.aws.ImageImporter.ImportProgress;
import dev.nixek.ci.operator.aws.ImageStore;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventReason;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.Optional;

/**
 * The import: ImportSnapshot of the uploaded image, its task polled by rescheduling (never sleeping), the snapshot
 * tagged and recorded. The ClientToken comes from the identity and the attempt, so a repeated call after a crash
 * finds the first task; a retry after ImportFailed is a new attempt.
 */
final class ImportStage {
  /** How long an import task EC2 does not show is taken for eventual consistency. */
  static final Duration TASK_VISIBILITY = Duration.ofMinutes(30);

  private final OperatorConfig config;
  private final AwsClients aws;
  private final Clock clock;
  private final ImageCrashPoints crashPoints;
  private final ImageDelays delays;

  ImportStage(OperatorConfig config, AwsClients aws, Clock clock, ImageCrashPoints crashPoints) {
    this.config = config;
    this.aws = aws;
    this.clock = clock;
    this.crashPoints = crashPoints;
    this.delays = ImageDelays.of(config.images());
  }

  /** Prepares another import after an ImportFailed of an earlier generation. */
  void retry(ImagePass pass) {
    // a new attempt gets a new ClientToken; recorded before the call so that a crash cannot fork it
    pass.next.importAttempt = attempt(pass.next) + 1;
    pass.next.importTaskId = null;
    pass.next.importStartTime = null;
    pass.next.snapshotId = null;
    pass.ready(ConditionReason.Importing, "retrying the import (attempt " + pass.next.importAttempt + ")", null);
    pass.persist();
  }

  /** Starts the import, or follows the started one; empty once the snapshot is recorded. */
  Optional<UpdateControl<NixekMachineImage>> importSnapshot(ImagePass pass, ImageTarget t) {
    NixekMachineImageStatus next = pass.next;
    ImageImporter ec2 = new ImageImporter(aws.ec2(t.region()));
    Instant now = clock.instant();
    if (next.importTaskId == null) {
      int attempt = Math.max(attempt(next), SiblingImages.of(pass, t)
          .mapToInt(o -> attempt(o.getStatus())).max().orElse(1));
      ImageStore.Location object = ImageStore.Location.parse(next.s3Uri);
      String taskId = ec2.startImport(new ImageImporter.ImportRequest(
          ImageNames.importToken(config.clusterId(), t.id(), t.region(), next.s3Uri, attempt),
          object.bucket(), object.key(), next.diskFormat, config.images().importRole(),
          "nixek-ci image " + t.id().shortHash(), ImageNames.tags(config.clusterId(), pass.image, t)));
      crashPoints.reached(ImageCrashPoints.Point.IMPORT_STARTED, pass.image);
      next.importAttempt = attempt;
      next.importTaskId = taskId;
      next.importStartTime = now.truncatedTo(ChronoUnit.SECONDS).toString();
      pass.ready(ConditionReason.Importing, "import task " + taskId + " started", EventReason.ImportStarted);
      return Optional.of(pass.finish(config.images().pollMin()));
    }
    ImportProgress p = ec2.describeImport(next.importTaskId);
    switch (p.state()) {
      case FAILED -> {
        pass.ready(ConditionReason.ImportFailed, "import task " + next.importTaskId + " failed: "
            + Objects.requireNonNullElse(p.statusMessage(), "(no message)"), EventReason.ImportFailed);
        return Optional.of(pass.finish(null));
      }
      case COMPLETED -> {
        // ImportSnapshot cannot tag the snapshot it makes: tag it now (idempotent), then record it
        ec2.tag(p.snapshotId(), ImageNames.tags(config.clusterId(), pass.image, t));
        next.snapshotId = p.snapshotId();
        pass.ready(ConditionReason.Registering, "import task " + next.importTaskId + " made snapshot "
            + p.snapshotId(), null);
        pass.persist();
        return Optional.empty();
      }
      case NOT_FOUND -> {
        // right after ImportSnapshot that is EC2's eventual consistency; much later, the task is gone for good
        // (EC2 shows finished tasks for 7 days)
        Instant started = next.importStartTime == null ? now : Instant.parse(next.importStartTime);
        if (started.plus(TASK_VISIBILITY).isBefore(now)) {
          pass.ready(ConditionReason.ImportFailed, "import task " + next.importTaskId + " is unknown to EC2 "
              + TASK_VISIBILITY.toMinutes() + " minutes after it started", EventReason.ImportFailed);
          return Optional.of(pass.finish(null));
        }
        pass.ready(ConditionReason.Importing, "import task " + next.importTaskId
            + " started; EC2 does not show it yet", null);
        return Optional.of(pass.finish(delays.poll(next.importStartTime, now)));
      }
      default -> {
        String progress = p.progress() == null ? "" : " " + p.progress() + "%";
        String status = p.statusMessage() == null ? "" : ": " + p.statusMessage();
        pass.ready(ConditionReason.Importing, "import task " + next.importTaskId + status + progress, null);
        return Optional.of(pass.finish(delays.poll(next.importStartTime, now)));
      }
    }
  }

  /** The import attempt of a status (1 when none is recorded). */
  static int attempt(NixekMachineImageStatus s) {
    return s == null || s.importAttempt == null ? 1 : s.importAttempt;
  }
}
