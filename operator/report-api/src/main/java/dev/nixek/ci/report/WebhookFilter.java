package dev.nixek.ci.report;

import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Whether a verified delivery is about something its repository builds; if not, why (the answer is then 202
 * "ignored" and nothing is nudged). The same rules as the operator's (docs/repositories.md): {@code spec.branches}
 * as names or globs ({@code *} within a path segment, {@code **} across), the default branch when none are given,
 * pull requests unless {@code spec.pullRequests.enabled} is false, from forks only when {@code forks} is true. A
 * wrong "ignored" would lose a build until the next poll, so in doubt (no default branch named) it nudges.
 */
final class WebhookFilter {
  /** Pull request actions that change which heads are open or where one points. */
  static final Set<String> PR_ACTIONS = Set.of("opened", "reopened", "synchronize", "synchronized", "closed");
  private static final String HEADS = "refs/heads/";

  private WebhookFilter() {}

  /** Empty when the delivery should nudge the repository; else the reason it is ignored. */
  static Optional<String> ignored(WebhookRepository repo, WebhookEvent e) {
    switch (e.event()) {
      case WebhookEvent.PUSH -> {
        if (!e.ref().startsWith(HEADS)) {
          return Optional.of("only branches are built, not " + e.ref());
        }
        String branch = e.ref().substring(HEADS.length());
        if (repo.branches().isEmpty()) {
          return e.defaultBranch() == null || e.defaultBranch().equals(branch) ? Optional.empty()
              : Optional.of("branch " + branch + " is not built (only the default branch, " + e.defaultBranch() + ")");
        }
        for (String glob : repo.branches()) {
          if (matches(glob, branch)) {
            return Optional.empty();
          }
        }
        return Optional.of("branch " + branch + " matches no spec.branches entry");
      }
      case WebhookEvent.PULL_REQUEST -> {
        if (!repo.pullRequests()) {
          return Optional.of("pull requests are not built (spec.pullRequests.enabled is false)");
        }
        if (e.fork() && !repo.forks()) {
          return Optional.of("pull requests from forks are not built (spec.pullRequests.forks is false)");
        }
        if (!PR_ACTIONS.contains(e.action())) {
          return Optional.of("pull request action " + e.action() + " changes no head");
        }
        return Optional.empty();
      }
      default -> {
        return Optional.of("event " + e.event() + " is not built");
      }
    }
  }

  /** Whether {@code branch} matches {@code glob}: {@code **} any characters, {@code *} any but '/'. */
  static boolean matches(String glob, String branch) {
    StringBuilder re = new StringBuilder();
    int i = 0;
    while (i < glob.length()) {
      if (glob.startsWith("**", i)) {
        re.append(".*");
        i += 2;
      } else if (glob.charAt(i) == '*') {
        re.append("[^/]*");
        i++;
      } else {
        int next = glob.indexOf('*', i);
        int end = next < 0 ? glob.length() : next;
        re.append(Pattern.quote(glob.substring(i, end)));
        i = end;
      }
    }
    return Pattern.matches(re.toString(), branch);
  }
}
