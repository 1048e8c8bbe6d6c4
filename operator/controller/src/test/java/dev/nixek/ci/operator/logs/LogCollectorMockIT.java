package dev.nixek.ci.operator.logs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.logs.LogStore.StoredJob;
import dev.nixek.ci.operator.testing.InMemoryLogStore;
import dev.nixek.ci.operator.testing.TestJobs;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The log collector against the fabric8 mock API server (jobs listed as the operator lists them) and an in-memory
 * store: logs of gone jobs go, logs of existing jobs stay unless older than the retention, watched namespaces bound
 * what it touches, and a failed deletion is tried again on the next pass.
 */
@EnableKubernetesMockClient(crud = true)
class LogCollectorMockIT {
  static KubernetesClient client;

  private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");
  private InMemoryLogStore store;

  @BeforeEach
  void setUp() {
    TestJobs.createCrds(client);
    TestJobs.deleteAll(client);
    store = new InMemoryLogStore();
  }

  /** A job that exists, with its uid as the API server gave it. */
  private JobLogs existing(String ns, String name) {
    NixekJob j = client.resources(NixekJob.class).inNamespace(ns).resource(TestJobs.job(ns, name,
        TestJobs.run("a", "true"))).create();
    return JobLogCleanup.of(j);
  }

  /** Stores a chunk of {@code job}'s, written {@code ago} before NOW. */
  private void written(JobLogs job, Duration ago) {
    store.clock(Clock.fixed(NOW.minus(ago), ZoneOffset.UTC));
    store.put(job.step(0), 0, 0, "hello\n".getBytes());
  }

  private LogCollector collector(List<String> namespaces, Duration retention) {
    return new LogCollector(client, store, namespaces, retention, Clock.fixed(NOW, ZoneOffset.UTC));
  }

  @Test
  void logsOfGoneJobsGoAndLogsOfExistingJobsStayWithoutRetention() {
    JobLogs live = existing("ci", "live");
    JobLogs old = existing("ci", "old");
    JobLogs gone = new JobLogs("ci", "gone", "uid-gone");
    // a later job of the same name as a live one: its uid differs, so the earlier job's logs are orphans
    JobLogs earlier = new JobLogs("ci", "live", "uid-earlier");
    written(live, Duration.ofMinutes(1));
    written(old, Duration.ofDays(400));
    written(gone, Duration.ofMinutes(1));
    written(earlier, Duration.ofMinutes(1));

    List<LogCollector.Deleted> deleted = collector(List.of(), Duration.ZERO).collect();

    assertThat(deleted).extracting(d -> d.job().job()).containsExactlyInAnyOrder(gone, earlier);
    assertThat(deleted).extracting(LogCollector.Deleted::why).containsOnly("its job is gone");
    assertThat(store.jobs()).extracting(StoredJob::job).containsExactlyInAnyOrder(live, old);
    assertThat(collector(List.of(), Duration.ZERO).collect()).as("a second pass").isEmpty();
  }

  @Test
  void withARetentionLogsOlderThanItGoEvenWhileTheirJobExists() {
    JobLogs fresh = existing("ci", "fresh");
    JobLogs stale = existing("ci", "stale");
    written(fresh, Duration.ofDays(6));
    written(stale, Duration.ofDays(8));

    List<LogCollector.Deleted> deleted = collector(List.of(), Duration.ofDays(7)).collect();

    assertThat(deleted).extracting(d -> d.job().job()).containsExactly(stale);
    assertThat(deleted.get(0).why()).contains("more than 7 days ago", "NIXEK_LOG_RETENTION_DAYS");
    assertThat(store.jobs()).extracting(StoredJob::job).containsExactly(fresh);
  }

  @Test
  void withWatchedNamespacesOnlyTheirLogsAreTouched() {
    JobLogs mine = new JobLogs("ci", "gone", "uid-1");
    JobLogs theirs = new JobLogs("elsewhere", "gone", "uid-2");
    written(mine, Duration.ofDays(1));
    written(theirs, Duration.ofDays(1));

    assertThat(collector(List.of("ci"), Duration.ZERO).collect()).extracting(d -> d.job().job())
        .containsExactly(mine);
    assertThat(store.jobs()).extracting(StoredJob::job).containsExactly(theirs);
  }

  @Test
  void aFailedDeletionIsTriedAgainOnTheNextPass() {
    JobLogs gone = new JobLogs("ci", "gone", "uid-gone");
    written(gone, Duration.ofMinutes(1));
    store.failDeletes.set(1);

    assertThat(collector(List.of(), Duration.ZERO).collect()).isEmpty();
    assertThat(store.has(gone)).isTrue();
    assertThat(collector(List.of(), Duration.ZERO).collect()).extracting(d -> d.job().job()).containsExactly(gone);
    assertThat(store.has(gone)).isFalse();
    assertThat(store.deletes).containsExactly(gone, gone);
  }

  @Test
  void anEmptyStoreListsNoJobs() {
    existing("ci", "live");
    assertThat(collector(List.of(), Duration.ofDays(1)).collect()).isEmpty();
  }
}
