package dev.nixek.ci.operator.job;

import static dev.nixek.ci.common.status.Conditions.SUCCEEDED;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.GitOpsConditions;
import dev.nixek.ci.common.text.ControlChars;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.metrics.JobMetrics;
import dev.nixek.ci.operator.status.OperatorStatus;
import dev.nixek.ci.operator.status.StatusWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One reconcile of one job: the job as it came, the operator status it gets next, one reading of the clock, and the
 * verbs that change that status and write it.
 */
final class JobPass {
  /** The job reconciler's one log category, whichever of its classes logs. */
  static final Logger LOG = LoggerFactory.getLogger(NixekJobReconciler.class);
  /** How soon a pass that ended a job (or left a retry pending) is followed by the next. */
  static final Duration AFTER_END = Duration.ofMillis(500);

  /** What every pass of a reconciler shares. */
  record Services(KubernetesClient client, StatusWriter<NixekJob, NixekJobStatus> statusWriter,
      EventRecorder events, Clock clock, Duration pollInterval, JobMetrics metrics) {
    Services(KubernetesClient client, StatusWriter<NixekJob, NixekJobStatus> statusWriter, EventRecorder events,
        Clock clock, Duration pollInterval) {
      this(client, statusWriter, events, clock, pollInterval, JobMetrics.unregistered());
    }

    /** A pass over {@code job} as this reconcile got it. */
    JobPass begin(Context<NixekJob> context, NixekJob job) {
      NixekJobStatus next = OperatorStatus.of(job.getStatus());
      next.observedGeneration = job.getMetadata().getGeneration();
      return new JobPass(this, context, job, next, clock.instant());
    }
  }

  private final Services services;
  private final Context<NixekJob> context;
  private final NixekJob job;
  private final NixekJobStatus next;
  private final Instant now;
  /** The job with its evaluation (read fresh by the evaluator), once this pass saw it evaluated; else null. */
  private NixekJob evaluated;

  private JobPass(Services services, Context<NixekJob> context, NixekJob job, NixekJobStatus next, Instant now) {
    this.services = services;
    this.context = context;
    this.job = job;
    this.next = next;
    this.now = now;
  }

  /** The job this pass acts on: the evaluated one once there is one, else the job as the reconcile got it. */
  NixekJob job() {
    return evaluated != null ? evaluated : job;
  }

  /** The operator status this pass builds. */
  NixekJobStatus next() {
    return next;
  }

  /** The pass's one reading of the clock. */
  Instant now() {
    return now;
  }

  Context<NixekJob> context() {
    return context;
  }

  /** From here on the pass acts on {@code job}, the evaluated job (its status is compared and written over). */
  void useEvaluated(NixekJob job) {
    if (evaluated != null) {
      throw new IllegalStateException("the pass already acts on the evaluated job");
    }
    evaluated = job;
  }

  /**
   * Goes on as a pass over {@code newer} (the same job, written by someone else since, e.g. its steps removed), keeping
   * the status this pass builds.
   */
  JobPass over(NixekJob newer) {
    return new JobPass(services, context, newer, next, now);
  }

  KubernetesClient client() {
    return services.client();
  }

  /** "namespace/name", for log lines. */
  String ref() {
    return job().getMetadata().getNamespace() + "/" + job().getMetadata().getName();
  }

  /** The job as the API server has it now (null when it is gone): the cache may predate the agent's reports. */
  NixekJob fresh() {
    return services.client().resources(NixekJob.class).inNamespace(job().getMetadata().getNamespace())
        .withName(job().getMetadata().getName()).get();
  }

  /** Records an Event about the job. */
  void record(EventReason reason, String message) {
    record(job(), reason, message);
  }

  /** Records an Event about {@code about}, the job as last read. */
  void record(NixekJob about, EventReason reason, String message) {
    services.events().record(about, reason, message);
  }

  /** Sets the Succeeded condition to a reason the job waits or works with (condition status Unknown). */
  void waiting(ConditionReason reason, String message) {
    if (reason.status() != ConditionReason.Status.UNKNOWN) {
      throw new IllegalArgumentException(reason + " ends a job");
    }
    setSucceeded(reason, message);
  }

  /**
   * {@link #waiting(ConditionReason, String)}, with a Warning {@code event} when the condition's reason or message
   * changes: once per distinct cause, however often the pass finds it again.
   */
  void waiting(ConditionReason reason, String message, EventReason event) {
    boolean changed = Conditions.find(next.conditions, SUCCEEDED)
        // the stored message is escaped (Conditions.with): compare like with like, or every pass is a "change"
        .map(c -> !Conditions.hasReason(c, reason) || !ControlChars.escape(message).equals(c.getMessage()))
        .orElse(true);
    waiting(reason, message);
    if (changed) {
      record(event, message);
    }
  }

  /** {@link #end(NixekJob, ConditionReason, String, EventReason)} with the Event about the job. */
  void end(ConditionReason reason, String message, EventReason event) {
    end(job(), reason, message, event);
  }

  /**
   * Marks the job terminal (once): condition (True or False, as {@code reason} comes), completion time, one Event
   * (about {@code about}, the job as last read) and one log line.
   */
  void end(NixekJob about, ConditionReason reason, String message, EventReason event) {
    if (reason.status() == ConditionReason.Status.UNKNOWN) {
      throw new IllegalArgumentException(reason + " does not end a job");
    }
    boolean wasTerminal = Conditions.isTerminal(next);
    setSucceeded(reason, message);
    // the report API serves secrets only while the job runs; the sealed copy goes too (docs/secrets.md)
    next.sealedSecrets = null;
    if (next.completionTime == null) {
      next.completionTime = now.truncatedTo(ChronoUnit.SECONDS).toString();
    }
    if (!wasTerminal) {
      record(about, event, message);
      LOG.info("job {}/{} ended: {} ({})", about.getMetadata().getNamespace(), about.getMetadata().getName(), reason,
          message);
    }
  }

  private void setSucceeded(ConditionReason reason, String message) {
    next.conditions = Conditions.with(next.conditions, SUCCEEDED, reason, message, next.observedGeneration, now);
  }

  /**
   * Writes the status now, on the condition that the job is still at the resourceVersion this pass read (a launch
   * token is never written over a newer state), and goes on as a pass over the job as written.
   */
  JobPass written() {
    deriveGitOps();
    NixekJob written = services.statusWriter().write(context, job(), next, true);
    services.metrics().written(job(), next, now);
    return new JobPass(services, context, written, OperatorStatus.of(written.getStatus()), now);
  }

  /** Writes the status now, changed or not. */
  void write() {
    deriveGitOps();
    services.statusWriter().write(context, job(), next, false);
    services.metrics().written(job(), next, now);
  }

  /**
   * Ends the reconcile: writes the status if it changed, and looks again after the poll interval if {@code poll}. A
   * write that ended the job or left a retry pending is looked at again soon whatever {@code poll} says: JOSDK drops
   * the events of the operator's own writes, and an ended job still frees its queue slot and counts down its time to
   * live, a pending retry still launches.
   */
  UpdateControl<NixekJob> finish(boolean poll) {
    deriveGitOps();
    boolean wrote = false;
    if (!services.statusWriter().same(job().getStatus(), next)) {
      write();
      wrote = true;
    }
    if (poll) {
      return pollLater();
    }
    return wrote && (Conditions.isTerminal(next) || JobRetries.pending(next))
        ? UpdateControl.<NixekJob>noUpdate().rescheduleAfter(AFTER_END) : UpdateControl.noUpdate();
  }

  /** Ends the reconcile: writes the status if it changed, and looks again after {@code delay}. */
  UpdateControl<NixekJob> finish(Duration delay) {
    deriveGitOps();
    if (!services.statusWriter().same(job().getStatus(), next)) {
      write();
    }
    return UpdateControl.<NixekJob>noUpdate().rescheduleAfter(delay);
  }

  /** Ready, Reconciling and Stalled follow the Succeeded condition as this pass leaves it, at its generation. */
  private void deriveGitOps() {
    next.conditions = GitOpsConditions.forJob(next.conditions, next.observedGeneration, now);
  }

  /** Ends the reconcile without a write, looking again after the poll interval. */
  UpdateControl<NixekJob> pollLater() {
    return UpdateControl.<NixekJob>noUpdate().rescheduleAfter(services.pollInterval());
  }

  /** A time as status and metadata write it; empty when absent or unreadable. */
  static Optional<Instant> time(String t) {
    try {
      return Optional.ofNullable(t).map(Instant::parse);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
