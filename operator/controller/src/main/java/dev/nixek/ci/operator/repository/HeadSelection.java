package dev.nixek.ci.operator.repository;

import dev.nixek.ci.api.v1alpha1.NixekRepositorySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which heads of a repository are built: the branches {@code spec.branches} matches (the default branch when it names
 * none), then the open pull requests — each at the commit git lists for its {@code refs/pull/<n>/head} (the API's
 * head sha only when git lists none) — with those from forks skipped unless {@code spec.pullRequests.forks}.
 */
public final class HeadSelection {
  private static final Pattern SHA = Pattern.compile("^([0-9a-f]{40}|[0-9a-f]{64})$");
  static final String FORK_SKIPPED = "a pull request from a fork: not built (spec.pullRequests.forks is false)";

  /** A head to build (skipped null) or to show as not built (skipped: why); fork: a pull request from a fork. */
  public record Candidate(String ref, String commit, String skipped, boolean fork) {}

  private HeadSelection() {}

  /** The branch patterns in force: spec.branches, else the default branch (none when the remote named none). */
  public static List<String> branchPatterns(NixekRepositorySpec spec, String defaultBranch) {
    if (spec.branches != null && !spec.branches.isEmpty()) {
      return spec.branches;
    }
    return defaultBranch == null ? List.of() : List.of(defaultBranch);
  }

  public static List<Candidate> select(LsRemote.Heads heads, List<String> branchPatterns,
      List<ForgeClient.PullRequest> pulls, boolean forks) {
    List<Candidate> out = new ArrayList<>();
    for (Map.Entry<String, String> e : heads.refs().entrySet()) {
      RefRules.branch(e.getKey()).filter(b -> RefRules.branchMatches(b, branchPatterns))
          .ifPresent(b -> out.add(new Candidate(e.getKey(), e.getValue(), null, false)));
    }
    for (ForgeClient.PullRequest pr : pulls) {
      String ref = RefRules.pullRef(pr.number());
      String commit = heads.refs().getOrDefault(ref, pr.headSha());
      if (commit == null || !SHA.matcher(commit).matches()) {
        continue;
      }
      out.add(new Candidate(ref, commit, pr.fork() && !forks ? FORK_SKIPPED : null, pr.fork()));
    }
    return out;
  }
}
