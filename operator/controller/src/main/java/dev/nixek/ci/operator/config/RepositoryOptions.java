package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.bool;
import static dev.nixek.ci.common.config.Parsers.intRange;

import dev.nixek.ci.common.config.ConfigOption;
import java.util.List;
import java.util.Map;

/**
 * Bounds on what a NixekRepository may make (docs/repositories.md). Anyone who may create a repository chooses its
 * flake, so the installation bounds how many jobs one commit makes, and whether a repository may name a path on the
 * operator's own host. Part of {@link OperatorConfig}.
 *
 * @param maxJobsPerCommit more jobs than this in one commit's job attribute: none are made (TooManyJobs)
 * @param allowFileUrls whether spec.url may be file:// (a repository on the operator's host: tests, the demo)
 */
public record RepositoryOptions(int maxJobsPerCommit, boolean allowFileUrls) {
  public static final ConfigOption<Integer> MAX_JOBS_PER_COMMIT = new ConfigOption<>(
      "NIXEK_REPOSITORY_MAX_JOBS_PER_COMMIT", "100",
      "most jobs one commit of a NixekRepository may make; a commit with more makes none and the repository says "
      + "TooManyJobs", intRange(1, 1000));
  public static final ConfigOption<Boolean> ALLOW_FILE_URLS = new ConfigOption<>(
      "NIXEK_REPOSITORY_ALLOW_FILE_URLS", "false",
      "whether a NixekRepository's spec.url may be file:// (a git repository on the operator's host; for tests "
      + "and the demo only: it lets a repository's author read refs of any repository the operator's user can)",
      bool());

  public static final List<ConfigOption<?>> OPTIONS = List.of(MAX_JOBS_PER_COMMIT, ALLOW_FILE_URLS);

  public static RepositoryOptions fromEnv(Map<String, String> env) {
    return new RepositoryOptions(MAX_JOBS_PER_COMMIT.read(env), ALLOW_FILE_URLS.read(env));
  }
}
