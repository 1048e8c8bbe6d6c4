package dev.nixek.ci.operator.repository;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RetentionTest {
  private static Retention.Job job(String name, String ref, String commit, String created, boolean finished) {
    return new Retention.Job(name, ref, commit, created, finished, false);
  }

  private static final String MAIN = "refs/heads/main";
  private static final String PR = "refs/pull/3/head";

  @Test
  void keepsTheNewestCommitsPerRefAndCancelsSupersededUnfinishedJobs() {
    List<Retention.Job> jobs = List.of(
        job("c1-a", MAIN, "c1", "2026-01-01T00:00:01Z", true),
        job("c2-a", MAIN, "c2", "2026-01-01T00:00:02Z", false),
        job("c2-b", MAIN, "c2", "2026-01-01T00:00:02Z", true),
        job("c3-a", MAIN, "c3", "2026-01-01T00:00:03Z", false),
        job("p1-a", PR, "p1", "2026-01-01T00:00:01Z", false));
    Retention.Plan plan = Retention.plan(jobs, Map.of(MAIN, "c3", PR, "p1"), 2, true);
    assertThat(plan.delete()).containsExactly("c1-a");
    assertThat(plan.cancel()).containsExactly("c2-a");
  }

  @Test
  void theHeadCountsAsNewestEvenBeforeItsJobsExistAndCancelIsOptional() {
    List<Retention.Job> jobs = List.of(
        job("c1-a", MAIN, "c1", "2026-01-01T00:00:01Z", false),
        job("c2-a", MAIN, "c2", "2026-01-01T00:00:02Z", false));
    Retention.Plan plan = Retention.plan(jobs, Map.of(MAIN, "c9"), 2, false);
    assertThat(plan.delete()).containsExactly("c1-a");
    assertThat(plan.cancel()).isEmpty();
    Retention.Plan one = Retention.plan(jobs, Map.of(MAIN, "c2"), 1, true);
    assertThat(one.delete()).containsExactly("c1-a");
    assertThat(one.cancel()).isEmpty();
  }

  @Test
  void refsNoLongerListedAndCancelledJobsAreLeftAlone() {
    List<Retention.Job> jobs = List.of(
        job("gone", "refs/heads/deleted", "x", "2026-01-01T00:00:01Z", false),
        new Retention.Job("c1-a", MAIN, "c1", "2026-01-01T00:00:01Z", false, true));
    Retention.Plan plan = Retention.plan(jobs, Map.of(MAIN, "c2"), 5, true);
    assertThat(plan.delete()).isEmpty();
    assertThat(plan.cancel()).isEmpty();
  }
}
