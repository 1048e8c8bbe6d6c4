package dev.nixek.ci.operator.repository;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryForge;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The job-names command's answers as the operator reads them, and the URL and duration rules. */
class CommitAnswersTest {
  @Test
  void namesReasonsAndGarbage() {
    assertThat(CommitEvaluations.answer("{\"names\":[\"a\",\"b\"]}"))
        .isEqualTo(new CommitEvaluations.Outcome.Names(List.of("a", "b")));
    assertThat(CommitEvaluations.answer("{\"reason\":\"AttributeMissing\",\"error\":\"no ci\"}"))
        .isEqualTo(new CommitEvaluations.Outcome.Failed(ConditionReason.AttributeMissing, "no ci"));
    assertThat(CommitEvaluations.answer("{\"reason\":\"Succeeded\",\"error\":\"x\"}"))
        .as("a reason of another kind is not taken").isEqualTo(
            new CommitEvaluations.Outcome.Failed(ConditionReason.CommitEvaluationFailed, "x"));
    assertThat(CommitEvaluations.answer("the end of a log")).isInstanceOf(CommitEvaluations.Outcome.Failed.class);
    assertThat(CommitEvaluations.answer(null)).isInstanceOf(CommitEvaluations.Outcome.Failed.class);
  }

  @Test
  void urlsDeriveTheFlakeTheRepositoryAndTheApi() {
    assertThat(RepositoryUrls.flakeUrl("https://h/o/r.git")).isEqualTo("git+https://h/o/r.git");
    assertThat(RepositoryUrls.ownerAndName("https://h/sub/o/r.git/")).contains("o/r");
    assertThat(RepositoryUrls.ownerAndName("https://h/r")).isEmpty();
    NixekRepositoryForge github = new NixekRepositoryForge();
    github.kind = "github";
    assertThat(RepositoryUrls.apiUrl(github, "https://github.com/o/r")).contains("https://api.github.com");
    assertThat(RepositoryUrls.apiUrl(github, "https://ghe.example.com/o/r")).isEmpty();
    NixekRepositoryForge gitea = new NixekRepositoryForge();
    gitea.kind = "gitea";
    assertThat(RepositoryUrls.apiUrl(gitea, "http://127.0.0.1:3000/o/r.git")).contains("http://127.0.0.1:3000/api/v1");
    assertThat(RepositoryUrls.apiUrl(gitea, "file:///tmp/o/r")).isEmpty();
    gitea.apiUrl = "https://x/api/v1";
    assertThat(RepositoryUrls.apiUrl(gitea, "ssh://git@x/o/r")).contains("https://x/api/v1");
  }

  @Test
  void goDurations() {
    Duration d = Duration.ofMinutes(5);
    assertThat(Durations.parse("30s", d)).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("1h30m", d)).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("1.5h", d)).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("250ms", d)).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse("5 m", d)).isEqualTo(d);
    assertThat(Durations.parse("x5m", d)).isEqualTo(d);
    assertThat(Durations.parse(null, d)).isEqualTo(d);
  }
}
