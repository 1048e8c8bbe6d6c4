package dev.nixek.ci.operator.job;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.config.QueueOptions;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The per-namespace limit of running jobs (docs/operations.md#queues-retries-and-ttl): a job ready to launch either
 * takes a slot or waits {@code Queued} with its position, in creation order ({@link QueueOrder}).
 *
 * <p>JOSDK serialises reconciles of one job but runs different jobs in parallel, so two jobs could both see the last
 * slot free. Decisions of one namespace are therefore taken under one lock, counting the jobs the informer cache shows
 * with a launch token plus the jobs admitted here whose token the cache does not show yet. An admission is forgotten
 * once the cache shows the job launched, ended or gone, or after {@link #ADMISSION_TTL} (a launch that never
 * recorded its token: the job is then decided again). With leader election one operator decides at a time.
 *
 * <p>A job that frees a slot wakes the queued jobs of its namespace ({@link #released}); queued jobs also look again
 * every {@link #RECHECK} in case a wake-up was missed (e.g. across a leader change). The wake-up comes from the freeing
 * job's reconcile, before that reconcile's status write (machineTerminated) reaches the cache, so the woken jobs would
 * still count the freed slot as taken and wait for the recheck: a freed job is therefore remembered here ({@code
 * freed}) until the cache shows its machine terminated or the job gone, or {@link #ADMISSION_TTL} passed.
 */
final class JobQueue {
  static final Duration ADMISSION_TTL = Duration.ofMinutes(2);
  static final Duration RECHECK = Duration.ofSeconds(30);

  private final QueueOptions options;
  private final SimpleInboundEventSource<NixekJob> wakeUps = new SimpleInboundEventSource<>("job-queue");
  /** Per namespace: UIDs admitted (and when) whose launch token the cache may not show yet. */
  private final Map<String, Map<String, Instant>> admitted = new ConcurrentHashMap<>();
  /** Per namespace: UIDs whose slot was freed (and when) while the cache may still show them holding it. */
  private final Map<String, Map<String, Instant>> freed = new ConcurrentHashMap<>();

  JobQueue(QueueOptions options) {
    this.options = options;
  }

  /** Wakes queued jobs when a slot of their namespace is freed. */
  EventSource<?, NixekJob> eventSource() {
    return wakeUps;
  }

  /**
   * Empty when the pass's job (ready to launch) may launch now; else the job waits {@code Queued} with its position
   * and this is how the reconcile ends.
   */
  Optional<UpdateControl<NixekJob>> hold(JobPass pass) {
    NixekJob job = pass.job();
    String namespace = job.getMetadata().getNamespace();
    int limit = options.limitFor(namespace);
    if (limit == 0) {
      return Optional.empty();
    }
    QueueOrder.Decision decision;
    Map<String, Instant> inFlight = admitted.computeIfAbsent(namespace, n -> new ConcurrentHashMap<>());
    Map<String, Instant> given = freed.computeIfAbsent(namespace, n -> new ConcurrentHashMap<>());
    synchronized (inFlight) {
      List<NixekJob> jobs = pass.context().getPrimaryCache().list(namespace).toList();
      forgetSettled(inFlight, jobs, pass.now());
      forgetShown(given, jobs, pass.now());
      decision = QueueOrder.decide(job, jobs, inFlight.keySet(), given.keySet(), limit);
      if (decision instanceof QueueOrder.Decision.Admit) {
        inFlight.putIfAbsent(job.getMetadata().getUid(), pass.now());
        return Optional.empty();
      }
    }
    pass.waiting(ConditionReason.Queued, ((QueueOrder.Decision.Wait) decision).message(namespace));
    return Optional.of(pass.finish(RECHECK));
  }

  /**
   * A job of {@code namespace} freed its slot (ended with its machine terminated, or deleted): wake the queued. A job
   * that ended before {@code since} (e.g. every finished job an operator sees again at start-up) wakes nobody: its
   * slot was freed long ago, and the queued jobs' own rechecks cover what a restart missed.
   */
  void released(NixekJob job, Context<NixekJob> context, Instant ended, Instant now) {
    String namespace = job.getMetadata().getNamespace();
    if (options.limitFor(namespace) == 0 || ended.isBefore(now.minus(RECHECK.multipliedBy(2)))) {
      return;
    }
    freed.computeIfAbsent(namespace, n -> new ConcurrentHashMap<>()).putIfAbsent(job.getMetadata().getUid(), now);
    Set<ResourceID> queued = context.getPrimaryCache().list(namespace)
        .filter(QueueOrder::waitsForSlot)
        .map(ResourceID::fromResource)
        .collect(Collectors.toSet());
    queued.forEach(wakeUps::propagateEvent);
  }

  private static void forgetShown(Map<String, Instant> given, List<NixekJob> jobs, Instant now) {
    if (given.isEmpty()) {
      return;
    }
    Map<String, NixekJob> byUid = jobs.stream()
        .collect(Collectors.toMap(j -> j.getMetadata().getUid(), j -> j, (a, b) -> a));
    given.entrySet().removeIf(e -> {
      NixekJob j = byUid.get(e.getKey());
      return j == null || !QueueOrder.holdsSlot(j) || e.getValue().plus(ADMISSION_TTL).isBefore(now);
    });
  }

  private static void forgetSettled(Map<String, Instant> inFlight, List<NixekJob> jobs, Instant now) {
    if (inFlight.isEmpty()) {
      return;
    }
    Map<String, NixekJob> byUid = jobs.stream()
        .collect(Collectors.toMap(j -> j.getMetadata().getUid(), j -> j, (a, b) -> a));
    inFlight.entrySet().removeIf(e -> {
      NixekJob j = byUid.get(e.getKey());
      // not "no longer waiting" by its cached reason: an admitted job's cached status may still say WaitingForImage
      return j == null || j.getMetadata().getDeletionTimestamp() != null
          || j.getStatus() != null && (j.getStatus().launchToken != null || Conditions.isTerminal(j.getStatus()))
          || e.getValue().plus(ADMISSION_TTL).isBefore(now);
    });
  }
}
