package dev.nixek.ci.operator.metrics;

import static dev.nixek.ci.common.status.Conditions.SUCCEEDED;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The jobs' metrics. Labels are only ever a {@link ConditionReason}, a step's state or an outcome: never a job's
 * name, namespace or uid, so the series stay few however many jobs there are.
 *
 * <p>Most are read off the status the operator writes ({@link #written}: one call after each successful write, with
 * the job as it was before), so every transition counts once; a write that fails counts nothing and its retry counts
 * then. Queues call {@link #queueWait}.
 */
public final class JobMetrics {
  /** The gauge's label for a job that has no Succeeded condition yet. */
  public static final String NO_REASON = "None";
  private static final Duration SNAPSHOT_AGE = Duration.ofSeconds(1);

  private final MeterRegistry registry;
  private final Map<ConditionReason, Counter> finished = new EnumMap<>(ConditionReason.class);
  private final Map<ConditionReason, Timer> durations = new EnumMap<>(ConditionReason.class);
  private final Timer launchLatency;
  private final Timer queueWait;
  private volatile Supplier<Stream<NixekJob>> live = Stream::empty;
  private volatile Map<String, Long> snapshot = Map.of();
  private volatile long snapshotAt = Long.MIN_VALUE;

  /** Metrics no registry serves: for what is built without an operator's (tests). */
  public static JobMetrics unregistered() {
    return new JobMetrics(new SimpleMeterRegistry());
  }

  JobMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (ConditionReason r : ConditionReason.values()) {
      if (!r.appliesTo(ConditionReason.Kind.JOB)) {
        continue;
      }
      // every reason from the start, 0 until it happens: rate() and absent() need the series to exist
      if (r.status() != ConditionReason.Status.UNKNOWN) {
        finished.put(r, Counter.builder("nixek.jobs.finished")
            .description("Jobs that ended, by the reason of their Succeeded condition").tag("reason", r.name())
            .register(registry));
        durations.put(r, Buckets.timer("nixek.job.duration",
            "Jobs' duration from creation to end, by the reason they ended with", Buckets.LONG)
            .tag("reason", r.name()).register(registry));
      }
      Gauge.builder("nixek.jobs", () -> liveCount(r.name()))
          .description("NixekJobs the operator sees now, by the reason of their Succeeded condition")
          .tag("reason", r.name()).register(registry);
    }
    Gauge.builder("nixek.jobs", () -> liveCount(NO_REASON))
        .description("NixekJobs the operator sees now, by the reason of their Succeeded condition")
        .tag("reason", NO_REASON).register(registry);
    launchLatency = Buckets.timer("nixek.job.launch.latency",
        "Time from a job's creation to its machine's launch (evaluation, image and queue included)", Buckets.LAUNCH)
        .register(registry);
    queueWait = Buckets.timer("nixek.job.queue.wait", "Time jobs waited in a queue before they could launch",
        Buckets.LAUNCH).register(registry);
  }

  /**
   * The live-jobs gauge reads {@code jobs} (the controller's cache: nothing kept twice) at most once a second; until
   * this is called it reads nothing.
   */
  public void watch(Supplier<Stream<NixekJob>> jobs) {
    this.live = jobs;
    this.snapshotAt = Long.MIN_VALUE;
  }

  /** A job left its queue after {@code wait} (the queue's own clock: from when it was queued to when it may launch). */
  public void queueWait(Duration wait) {
    if (!wait.isNegative()) {
      queueWait.record(wait);
    }
  }

  /**
   * The operator wrote {@code after} over the status of {@code before} (the job as the write's reconcile had it) at
   * {@code now}: counts the transitions between them.
   */
  public void written(NixekJob before, NixekJobStatus after, Instant now) {
    NixekJobStatus was = before.getStatus();
    Optional<Instant> created = time(before.getMetadata().getCreationTimestamp());
    if ((was == null || was.startTime == null) && after.startTime != null) {
      created.ifPresent(c -> record(launchLatency, c, now));
    }
    Optional<Condition> old = condition(was);
    Optional<Condition> next = condition(after);
    if (isEvaluating(old) && next.isPresent() && !isEvaluating(next)) {
      // the Unknown condition began with the evaluation, and its lastTransitionTime stays while it is Unknown
      String outcome = Conditions.hasReason(next.get(), ConditionReason.EvaluationFailed) ? "failed"
          : Conditions.hasReason(next.get(), ConditionReason.Cancelled) ? "cancelled" : "evaluated";
      time(old.get().getLastTransitionTime()).ifPresent(start -> record(evaluationTimer(outcome), start, now));
    }
    if (!Conditions.isTerminal(was) && Conditions.isTerminal(after)) {
      ConditionReason reason = next.flatMap(JobMetrics::reason).orElse(null);
      if (reason != null && finished.containsKey(reason)) {
        finished.get(reason).increment();
        created.ifPresent(c -> record(durations.get(reason), c, now));
      }
      steps(was, after).forEach(this::recordStep);
    }
  }

  private Timer evaluationTimer(String outcome) {
    return Buckets.timer("nixek.evaluation.duration",
        "Nix evaluations of jobs, from the first Evaluating status to their result", Buckets.LONG)
        .tag("outcome", outcome).register(registry);
  }

  private void recordStep(NixekStepStatus step) {
    Optional<Instant> start = time(step.startTime);
    Optional<Instant> end = time(step.finishTime);
    if (start.isPresent() && end.isPresent() && step.state != null) {
      record(Buckets.timer("nixek.step.duration", "Steps' duration as their agent reported it, by their final state",
          Buckets.LONG).tag("state", step.state.name()).register(registry), start.get(), end.get());
    }
  }

  /** The steps of the ended job: the report API owns them, so the status as read has the newest. */
  private static Stream<NixekStepStatus> steps(NixekJobStatus was, NixekJobStatus after) {
    var steps = was != null && was.steps != null ? was.steps : after.steps;
    return steps == null ? Stream.empty() : steps.stream();
  }

  private long liveCount(String reason) {
    long now = System.nanoTime();
    if (snapshotAt == Long.MIN_VALUE || now - snapshotAt > SNAPSHOT_AGE.toNanos()) {
      snapshot = live.get().collect(Collectors.groupingBy(
          j -> condition(j.getStatus()).map(Condition::getReason).orElse(NO_REASON), Collectors.counting()));
      snapshotAt = now;
    }
    return snapshot.getOrDefault(reason, 0L);
  }

  private static boolean isEvaluating(Optional<Condition> c) {
    return c.map(x -> Conditions.hasReason(x, ConditionReason.Evaluating)
        || Conditions.hasReason(x, ConditionReason.EvaluationPending)).orElse(false);
  }

  private static Optional<Condition> condition(NixekJobStatus status) {
    return Conditions.find(status == null ? null : status.conditions, SUCCEEDED);
  }

  private static Optional<ConditionReason> reason(Condition c) {
    try {
      return Optional.of(ConditionReason.valueOf(c.getReason()));
    } catch (IllegalArgumentException | NullPointerException e) {
      return Optional.empty();
    }
  }

  private static void record(Timer timer, Instant from, Instant to) {
    Duration d = Duration.between(from, to);
    timer.record(d.isNegative() ? Duration.ZERO : d);
  }

  static Optional<Instant> time(String t) {
    try {
      return Optional.ofNullable(t).map(Instant::parse);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
