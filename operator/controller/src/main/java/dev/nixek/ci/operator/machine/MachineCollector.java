package dev.nixek.ci.operator.machine;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.common.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The orphan collector (docs/ec2.md#orphan-collection): terminates this installation's machines that no live job owns, and any machine
 * older than its job's time limit plus slack.
 *
 * <p>It lists machines first and jobs second, straight from the API server (never from a cache): a job launches only
 * after its launch token is in its status, so every machine in the first list belongs to a job that the second list
 * shows with that token — unless the job is really gone or has moved on. A machine is terminated when
 * <ul>
 *   <li>its job is gone, and the machine is older than the grace period;</li>
 *   <li>its job has ended at least the grace period ago (the job reconciler terminates it first; this is the
 *       backstop for when that did not happen, e.g. the job was force-deleted without its finalizer);</li>
 *   <li>its job is live but records another launch (token and instance id both differ), after the grace period;</li>
 *   <li>it is older than its job's time limit plus the lifetime slack (the max-lifetime reaper).</li>
 * </ul>
 * Every decision is safe to repeat and to take twice, so two collectors running at once (a leadership hand-over)
 * do no harm.
 */
public final class MachineCollector {
  private static final Logger LOG = LoggerFactory.getLogger(MachineCollector.class);

  /** A machine the collector terminated, and why. */
  public record Collected(Machine machine, String reason) {}

  private final KubernetesClient client;
  private final MachineProvider provider;
  private final List<String> namespaces;
  private final Duration grace;
  private final Duration lifetimeSlack;
  private final Duration defaultJobTimeout;
  private final Clock clock;

  /**
   * @param namespaces the namespaces whose jobs this operator runs; empty: all
   * @param grace see {@code NIXEK_COLLECTOR_GRACE_SECONDS}
   * @param lifetimeSlack see {@code NIXEK_MAX_LIFETIME_SLACK_SECONDS}
   * @param defaultJobTimeout the time limit of jobs without {@code spec.timeoutSeconds}
   */
  public MachineCollector(KubernetesClient client, MachineProvider provider, List<String> namespaces, Duration grace,
      Duration lifetimeSlack, Duration defaultJobTimeout, Clock clock) {
    this.client = client;
    this.provider = provider;
    this.namespaces = List.copyOf(namespaces);
    this.grace = grace;
    this.lifetimeSlack = lifetimeSlack;
    this.defaultJobTimeout = defaultJobTimeout;
    this.clock = clock;
  }

  /** Collects once; returns what it terminated. */
  public List<Collected> collect() {
    List<Machine> machines = provider.list().stream().filter(m -> !m.state().isTerminating()).toList();
    if (machines.isEmpty()) {
      return List.of();
    }
    Map<String, NixekJob> jobsByUid = listJobs();
    Instant now = clock.instant();
    List<Collected> collected = new ArrayList<>();
    for (Machine m : machines) {
      NixekJob job = m.jobUid() == null ? null : jobsByUid.get(m.jobUid());
      Optional<String> why = decide(m, job, now);
      if (why.isEmpty()) {
        continue;
      }
      try {
        provider.terminate(m.id());
        LOG.info("collector terminated machine {}: {}", m.id(), why.get());
        collected.add(new Collected(m, why.get()));
      } catch (RuntimeException e) {
        LOG.warn("collector could not terminate machine {} ({}): {}", m.id(), why.get(), e.toString());
      }
    }
    return collected;
  }

  /** Why {@code m} must be terminated now, given its job ({@code null}: gone); empty when it may live. */
  Optional<String> decide(Machine m, NixekJob job, Instant now) {
    Duration age = m.launchTime() == null ? Duration.ZERO : Duration.between(m.launchTime(), now);
    if (job == null) {
      return age.compareTo(grace) >= 0 ? Optional.of("its job (uid " + m.jobUid() + ") is gone") : Optional.empty();
    }
    NixekJobStatus status = job.getStatus();
    String jobName = job.getMetadata().getNamespace() + "/" + job.getMetadata().getName();
    if (Conditions.isTerminal(status)) {
      Instant ended = endTime(status).orElse(now);
      return now.isBefore(ended.plus(grace)) ? Optional.empty()
          : Optional.of("its job " + jobName + " ended at " + ended);
    }
    boolean current = status != null && (m.id().equals(status.instanceId)
        || m.launchToken() != null && m.launchToken().equals(status.launchToken));
    // a machine whose launch token is unknown is never called superseded: it may be the job's unrecorded launch
    if (!current && m.launchToken() != null && age.compareTo(grace) >= 0) {
      return Optional.of("not the current launch of job " + jobName + " (launch token " + m.launchToken()
          + ", the job records " + (status == null ? null : status.launchToken) + ")");
    }
    Duration limit = (job.getSpec() != null && job.getSpec().timeoutSeconds != null
        ? Duration.ofSeconds(job.getSpec().timeoutSeconds) : defaultJobTimeout).plus(lifetimeSlack);
    if (age.compareTo(limit) > 0) {
      return Optional.of("it is older (" + age.toSeconds() + "s) than job " + jobName + "'s time limit plus slack ("
          + limit.toSeconds() + "s)");
    }
    return Optional.empty();
  }

  private Map<String, NixekJob> listJobs() {
    List<NixekJob> jobs = new ArrayList<>();
    if (namespaces.isEmpty()) {
      jobs.addAll(client.resources(NixekJob.class).inAnyNamespace().list().getItems());
    } else {
      for (String ns : namespaces) {
        jobs.addAll(client.resources(NixekJob.class).inNamespace(ns).list().getItems());
      }
    }
    Map<String, NixekJob> byUid = new HashMap<>();
    jobs.forEach(j -> byUid.put(j.getMetadata().getUid(), j));
    return byUid;
  }

  private static Optional<Instant> endTime(NixekJobStatus status) {
    String t = status.completionTime;
    if (t == null) {
      t = Conditions.find(status.conditions, Conditions.SUCCEEDED).map(Condition::getLastTransitionTime).orElse(null);
    }
    try {
      return Optional.ofNullable(t).map(Instant::parse);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
