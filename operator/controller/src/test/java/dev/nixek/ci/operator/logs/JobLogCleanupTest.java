package dev.nixek.ci.operator.logs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.operator.testing.InMemoryLogStore;
import dev.nixek.ci.operator.testing.TestJobs;
import org.junit.jupiter.api.Test;

/** A deleted job's logs go with it, or are left to the collector when the store fails: the finalizer never waits. */
class JobLogCleanupTest {
  private final InMemoryLogStore store = new InMemoryLogStore();

  private static NixekJob job(String name, String uid) {
    NixekJob j = TestJobs.job("ci", name, TestJobs.run("a", "true"));
    j.getMetadata().setUid(uid);
    return j;
  }

  @Test
  void deletesTheLogsOfThatJobOnly() {
    JobLogs gone = new JobLogs("ci", "a", "uid-a");
    JobLogs sameNameLater = new JobLogs("ci", "a", "uid-a2");
    JobLogs other = new JobLogs("ci", "b", "uid-b");
    for (JobLogs j : new JobLogs[] {gone, sameNameLater, other}) {
      store.put(j.step(0), 0, 0, "out".getBytes());
    }
    store.put(gone.step(1), 0, 0, "more".getBytes());
    assertThat(new JobLogCleanup(store).jobDeleted(job("a", "uid-a"))).isTrue();
    assertThat(store.has(gone)).isFalse();
    assertThat(store.has(sameNameLater)).as("a job of the same name with another uid").isTrue();
    assertThat(store.has(other)).isTrue();
  }

  @Test
  void aFailingStoreIsLeftToTheCollectorWithoutThrowing() {
    JobLogs logs = new JobLogs("ci", "a", "uid-a");
    store.put(logs.step(0), 0, 0, "out".getBytes());
    store.failDeletes.set(1);
    assertThat(new JobLogCleanup(store).jobDeleted(job("a", "uid-a"))).isFalse();
    assertThat(store.has(logs)).isTrue();
    assertThat(store.deletes).containsExactly(logs);
  }

  @Test
  void withoutAStoreThereIsNothingToDelete() {
    assertThat(JobLogCleanup.NONE.jobDeleted(job("a", "uid-a"))).isTrue();
  }
}
