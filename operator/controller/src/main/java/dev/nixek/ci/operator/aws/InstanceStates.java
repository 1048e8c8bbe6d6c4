package dev.nixek.ci.operator.aws;

import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineListener;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Tag;

/**
 * Every instance of this cluster, described in one paginated DescribeInstances (filter: the cluster-id and
 * managed-by tags) per interval instead of one DescribeInstances per job per reconcile (docs/ec2.md#polling). The
 * reconciler's {@code describe(id)} is answered from the last snapshot; the listener hears of every job whose
 * instance appeared, changed state or disappeared, so a change is noticed within one interval.
 *
 * <p>A snapshot answers only what it can vouch for: it must be fresh (younger than two intervals), must contain the
 * instance (one launched after the snapshot was taken, or one EC2 does not show yet, is looked up directly — the
 * not-found grace applies to that answer exactly as before), and must have been taken after the operator's last
 * TerminateInstances of it (a terminate is confirmed by a direct look). Otherwise {@link #describe} answers empty
 * and the caller asks EC2 itself.
 */
public final class InstanceStates implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InstanceStates.class);
  /** EC2's largest page of DescribeInstances. */
  static final int PAGE_SIZE = 1000;

  private final Ec2Client ec2;
  private final String clusterId;
  private final Duration interval;
  private final Clock clock;
  private final int pageSize;
  private final Map<String, Instant> terminatedAt = new ConcurrentHashMap<>();
  private volatile Snapshot snapshot;
  /** Open once a first poll succeeded (or the poller stopped). */
  private final CountDownLatch firstPoll = new CountDownLatch(1);
  private volatile MachineListener listener;
  private volatile ScheduledExecutorService poller;
  private int failuresInARow;

  /** What one DescribeInstances chain saw: instances by id, taken at {@code takenAt} (when it was sent). */
  record Snapshot(Instant takenAt, Map<String, Seen> byId) {}

  /** An instance as the snapshot saw it, with the job (namespace, name) its tags name. */
  record Seen(Machine machine, String namespace, String name) {}

  InstanceStates(Ec2Client ec2, String clusterId, Duration interval, Clock clock) {
    this(ec2, clusterId, interval, clock, PAGE_SIZE);
  }

  /** With a smaller page (tests see several pages without a thousand instances). */
  InstanceStates(Ec2Client ec2, String clusterId, Duration interval, Clock clock, int pageSize) {
    this.ec2 = ec2;
    this.clusterId = clusterId;
    this.interval = interval;
    this.clock = clock;
    this.pageSize = pageSize;
  }

  /** Starts polling, telling {@code listener} of changes; idempotent. */
  synchronized void start(MachineListener listener) {
    this.listener = Objects.requireNonNull(listener);
    if (poller != null) {
      return;
    }
    poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ec2-instance-states");
      t.setDaemon(true);
      return t;
    });
    poller.scheduleWithFixedDelay(this::pollQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Whether it polls (until then every describe goes to EC2). */
  boolean polling() {
    return poller != null;
  }

  /**
   * The instance as the last snapshot saw it, if that snapshot may answer for it (see the class comment); empty
   * means "ask EC2".
   */
  Optional<Machine> describe(String instanceId) {
    Snapshot s = snapshot;
    if (s == null && polling()) {
      // right after start-up every running job is reconciled at once: wait for the first poll (bounded) rather
      // than send one DescribeInstances per job
      try {
        firstPoll.await(interval.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      s = snapshot;
    }
    if (s == null || clock.instant().isAfter(s.takenAt().plus(interval.multipliedBy(2)))) {
      return Optional.empty();
    }
    Seen seen = s.byId().get(instanceId);
    if (seen == null) {
      return Optional.empty();
    }
    Instant terminated = terminatedAt.get(instanceId);
    if (terminated != null && !s.takenAt().isAfter(terminated)) {
      return Optional.empty();
    }
    return Optional.of(seen.machine());
  }

  /** The operator asked EC2 to terminate the instance: snapshots taken before now do not answer for it. */
  void terminating(String instanceId) {
    terminatedAt.put(instanceId, clock.instant());
  }

  /** One poll: a new snapshot, and the jobs whose instance changed told. Package-private for tests. */
  void poll() {
    Instant takenAt = clock.instant();
    DescribeInstancesRequest req = DescribeInstancesRequest.builder()
        .filters(filter("tag:" + Ec2Tags.CLUSTER_ID, clusterId),
            filter("tag:" + Ec2Tags.MANAGED_BY, Ec2Tags.MANAGED_BY_VALUE))
        .maxResults(pageSize)
        .build();
    Map<String, Seen> now = new HashMap<>();
    ec2.describeInstancesPaginator(req).reservations().forEach(r -> r.instances().forEach(i ->
        now.put(i.instanceId(), seen(i))));
    Snapshot before = snapshot;
    snapshot = new Snapshot(takenAt, Map.copyOf(now));
    firstPoll.countDown();
    // a terminate older than two intervals is covered by every snapshot from now on
    terminatedAt.values().removeIf(t -> t.isBefore(takenAt.minus(interval.multipliedBy(2))));
    if (before != null) {
      tell(changed(before.byId(), now));
    }
  }

  private void pollQuietly() {
    try {
      poll();
      failuresInARow = 0;
    } catch (RuntimeException e) {
      // the last snapshot ages out; until a poll succeeds again, describes go to EC2 one by one as before
      if (failuresInARow++ % 10 == 0) {
        LOG.warn("DescribeInstances of cluster {} failed ({} in a row): {}", clusterId, failuresInARow,
            e.toString());
      }
    }
  }

  /** The jobs (namespace, name) of instances that appeared, disappeared or changed state between two snapshots. */
  static Set<Map.Entry<String, String>> changed(Map<String, Seen> before, Map<String, Seen> now) {
    Set<Map.Entry<String, String>> jobs = new LinkedHashSet<>();
    now.forEach((id, n) -> {
      Seen b = before.get(id);
      if (b == null || b.machine().state() != n.machine().state()) {
        jobs.add(job(n));
      }
    });
    before.forEach((id, b) -> {
      if (!now.containsKey(id)) {
        jobs.add(job(b));
      }
    });
    jobs.remove(Map.entry("", ""));
    return jobs;
  }

  private void tell(Set<Map.Entry<String, String>> jobs) {
    MachineListener l = listener;
    if (l == null) {
      return;
    }
    for (Map.Entry<String, String> j : jobs) {
      try {
        l.machineChanged(j.getKey(), j.getValue());
      } catch (RuntimeException e) {
        LOG.warn("telling job {}/{} of its instance's change: {}", j.getKey(), j.getValue(), e.toString());
      }
    }
  }

  private static Map.Entry<String, String> job(Seen s) {
    return Map.entry(Objects.requireNonNullElse(s.namespace(), ""), Objects.requireNonNullElse(s.name(), ""));
  }

  private static Seen seen(Instance i) {
    Function<String, String> tag = k -> i.tags().stream().filter(t -> k.equals(t.key())).map(Tag::value)
        .findFirst().orElse(null);
    String ns = tag.apply(Ec2Tags.JOB_NAMESPACE);
    String name = tag.apply(Ec2Tags.JOB_NAME);
    return new Seen(Ec2MachineProvider.toMachine(i), ns == null || name == null ? null : ns,
        ns == null || name == null ? null : name);
  }

  private static Filter filter(String name, String value) {
    return Filter.builder().name(name).values(value).build();
  }

  @Override
  public synchronized void close() {
    if (poller != null) {
      poller.shutdownNow();
      poller = null;
    }
    firstPoll.countDown();
    snapshot = null;
  }
}
