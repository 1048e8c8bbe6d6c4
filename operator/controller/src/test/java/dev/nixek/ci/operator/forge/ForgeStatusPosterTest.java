package dev.nixek.ci.operator.forge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.operator.forge.ForgeStatusPoster.JobKey;
import dev.nixek.ci.operator.forge.JobCommitStatus.Desired;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Delivery against a real HTTP server that fails, refuses, goes away and comes back. */
class ForgeStatusPosterTest {
  static final String SHA = ForgeStatusApiTest.SHA;
  static final JobKey JOB = new JobKey("ci", "repo-6dcb09b-hello", "uid-1");

  FakeForge forge;
  final List<CommitStatus> recorded = new CopyOnWriteArrayList<>();
  ForgeStatusPoster poster;

  @BeforeEach
  void start() throws Exception {
    forge = new FakeForge();
    poster = poster();
  }

  @AfterEach
  void stop() {
    poster.close();
    forge.close();
  }

  private ForgeStatusPoster poster() {
    return new ForgeStatusPoster(new ForgeStatusApi(Duration.ofSeconds(2)), new ForgeStatusPoster.Sink() {
      @Override
      public Optional<ForgeTarget> target(JobKey job, String commit) {
        return Optional.of(new ForgeTarget("gitea", forge.url("/api/v1"), "org/repo", commit, "tok"));
      }

      @Override
      public void recorded(JobKey job, CommitStatus status, Instant postedAt) {
        recorded.add(status);
      }
    }, Duration.ofMillis(20), Duration.ofMillis(200), 2);
  }

  private static Desired desired(String state, String description) {
    return new Desired(SHA, new CommitStatus(state, description, "nixek-ci/hello", null));
  }

  @Test
  void pendingThenFinalArePostedAndRecordedInOrder() {
    poster.submit(JOB, desired("pending", "nixek-ci job hello"));
    await().atMost(Duration.ofSeconds(10)).until(() -> recorded.size() == 1);
    poster.submit(JOB, desired("success", "all 2 steps succeeded"));
    await().atMost(Duration.ofSeconds(10)).until(() -> recorded.size() == 2);

    assertThat(forge.accepted()).extracting(r -> r.body().get("state").asText()).containsExactly("pending", "success");
    assertThat(recorded).extracting(CommitStatus::state).containsExactly("pending", "success");
    assertThat(poster.backlog()).isZero();
  }

  @Test
  void aForgeOutageLosesNoFinalStatusAndAPendingOneWaitingIsReplacedByIt() throws Exception {
    forge.failWith(503, Map.of());
    poster.submit(JOB, desired("pending", "nixek-ci job hello"));
    await().atMost(Duration.ofSeconds(10)).until(() -> forge.requests().size() >= 3);
    // the job ends while the forge is still down; then it goes away altogether
    poster.submit(JOB, desired("failure", "step 'build' failed with exit code 2"));
    forge.stop();
    Thread.sleep(500);
    assertThat(recorded).isEmpty();
    assertThat(poster.backlog()).isEqualTo(1);

    forge.restart();
    forge.recover();
    await().atMost(Duration.ofSeconds(10)).until(() -> recorded.size() == 1);
    assertThat(recorded.get(0).state()).isEqualTo("failure");
    // the pending one never went out after the forge came back: only the final status was accepted
    assertThat(forge.accepted()).extracting(r -> r.body().get("state").asText()).containsExactly("failure");
    assertThat(forge.requests().stream().filter(r -> r.answered() == 503).count()).isGreaterThanOrEqualTo(3);
    assertThat(poster.backlog()).isZero();
  }

  @Test
  void aRefusedStatusIsTriedAFewTimesThenDropped() {
    forge.failWith(404, Map.of());
    poster.submit(JOB, desired("success", "ok"));
    await().atMost(Duration.ofSeconds(10)).until(() -> poster.backlog() == 0);

    assertThat(forge.requests()).hasSize(ForgeStatusPoster.MAX_REFUSALS);
    assertThat(recorded).isEmpty();
  }

  @Test
  void aNewPosterResumesWhatTheClosedOneHadNotPosted() {
    forge.failWith(503, Map.of());
    poster.submit(JOB, desired("success", "ok"));
    await().atMost(Duration.ofSeconds(10)).until(() -> forge.requests().size() >= 2);
    poster.close(); // the operator stops (or loses its lease) with the status undelivered
    int before = forge.requests().size();
    forge.recover();

    // the next operator's poster gets the same job from its informer (status.forgeStatus is not "success")
    poster = poster();
    poster.submit(JOB, desired("success", "ok"));
    await().atMost(Duration.ofSeconds(10)).until(() -> recorded.size() == 1);
    assertThat(forge.accepted()).hasSize(1);
    assertThat(forge.requests().size()).isGreaterThan(before);
  }

  @Test
  void backoffDoublesToItsCapWithJitter() {
    assertThat(poster.delay(1).toMillis()).isBetween(16L, 24L);
    assertThat(poster.delay(3).toMillis()).isBetween(64L, 96L);
    assertThat(poster.delay(30).toMillis()).isBetween(160L, 240L);
  }
}
