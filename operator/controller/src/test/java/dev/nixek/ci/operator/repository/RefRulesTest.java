package dev.nixek.ci.operator.repository;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RefRulesTest {
  @Test
  void branchGlobsMatchWithinAndAcrossSegments() {
    assertThat(RefRules.branchMatches("main", List.of("main"))).isTrue();
    assertThat(RefRules.branchMatches("mainline", List.of("main"))).isFalse();
    assertThat(RefRules.branchMatches("release/1.0", List.of("release/*"))).isTrue();
    assertThat(RefRules.branchMatches("release/1.0/hotfix", List.of("release/*"))).isFalse();
    assertThat(RefRules.branchMatches("release/1.0/hotfix", List.of("release/**"))).isTrue();
    assertThat(RefRules.branchMatches("a+b.c", List.of("a+b.c"))).as("regex characters are literal").isTrue();
    assertThat(RefRules.branchMatches("aab", List.of("a.b"))).isFalse();
    assertThat(RefRules.branchMatches("feature", List.of())).isFalse();
  }

  @Test
  void pullRequestRefsAreRecognised() {
    assertThat(RefRules.pullNumber("refs/pull/7/head")).contains(7);
    assertThat(RefRules.pullNumber("refs/pull/7/merge")).isEmpty();
    assertThat(RefRules.pullNumber("refs/pull/07/head")).isEmpty();
    assertThat(RefRules.pullNumber("refs/heads/pull/7/head")).isEmpty();
    assertThat(RefRules.pullRef(12)).isEqualTo("refs/pull/12/head");
    assertThat(RefRules.branch("refs/heads/feature/x")).contains("feature/x");
    assertThat(RefRules.branch("refs/tags/v1")).isEmpty();
  }

  @Test
  void labelValuesAreBoundedAndDistinct() {
    assertThat(RefRules.refLabel("refs/heads/main")).isEqualTo("heads_main");
    assertThat(RefRules.refLabel("refs/pull/7/head")).isEqualTo("pull_7_head");
    assertThat(RefRules.refLabel("refs/heads/release/1")).isNotEqualTo(RefRules.refLabel("refs/heads/release_1"))
        .startsWith("heads_release_1-");
    String slash = RefRules.labelValue("heads/release/x");
    String underscore = RefRules.labelValue("heads_release_x");
    assertThat(underscore).isEqualTo("heads_release_x");
    assertThat(slash).as("a cleaned value gets a hash, so it cannot equal another value").isNotEqualTo(underscore)
        .matches("[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?");
    String longValue = "heads/" + "x".repeat(300);
    assertThat(RefRules.labelValue(longValue)).hasSizeLessThanOrEqualTo(63).isEqualTo(RefRules.labelValue(longValue));
    assertThat(RefRules.labelValue("-x-")).matches("[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?");
  }
}
