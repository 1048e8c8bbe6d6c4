package dev.nixek.ci.operator.repository;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekRepositorySpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeadSelectionTest {
  private static final String A = "a".repeat(40);
  private static final String B = "b".repeat(40);
  private static final String C = "c".repeat(40);
  private static final String D = "d".repeat(40);

  private static final LsRemote.Heads HEADS = new LsRemote.Heads("main", Map.of(
      "refs/heads/main", A, "refs/heads/feature", B, "refs/pull/1/head", C, "refs/pull/2/head", D,
      "refs/pull/9/head", A));

  @Test
  void theDefaultBranchWhenNoneIsNamed() {
    NixekRepositorySpec spec = new NixekRepositorySpec();
    assertThat(HeadSelection.branchPatterns(spec, "main")).containsExactly("main");
    assertThat(HeadSelection.branchPatterns(spec, null)).isEmpty();
    spec.branches = List.of("feat*");
    assertThat(HeadSelection.branchPatterns(spec, "main")).containsExactly("feat*");
  }

  @Test
  void openPullRequestsAtGitsCommitForksSkippedUnlessAllowed() {
    List<ForgeClient.PullRequest> pulls = List.of(new ForgeClient.PullRequest(1, "e".repeat(40), false),
        new ForgeClient.PullRequest(2, D, true), new ForgeClient.PullRequest(5, B, false),
        new ForgeClient.PullRequest(6, "not-a-sha", false));
    List<HeadSelection.Candidate> selected = HeadSelection.select(HEADS, List.of("main"), pulls, false);
    assertThat(selected).containsExactlyInAnyOrder(
        new HeadSelection.Candidate("refs/heads/main", A, null, false),
        new HeadSelection.Candidate("refs/pull/1/head", C, null, false),
        new HeadSelection.Candidate("refs/pull/2/head", D, HeadSelection.FORK_SKIPPED, true),
        new HeadSelection.Candidate("refs/pull/5/head", B, null, false));
    assertThat(HeadSelection.select(HEADS, List.of("main"), pulls, true))
        .contains(new HeadSelection.Candidate("refs/pull/2/head", D, null, true))
        .noneMatch(c -> c.ref().equals("refs/pull/9/head"));
  }
}
