package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class WebhookFilterTest {
  private static WebhookRepository repo(List<String> branches, boolean prs, boolean forks) {
    return new WebhookRepository("ci", "hello", "uid-1", branches, prs, forks, "v1.x");
  }

  private static WebhookEvent push(String ref, String defaultBranch) {
    return new WebhookEvent(WebhookEvent.PUSH, ref, null, false, defaultBranch);
  }

  private static WebhookEvent pr(String action, boolean fork) {
    return new WebhookEvent(WebhookEvent.PULL_REQUEST, "refs/pull/7/head", action, fork, "main");
  }

  @Test
  void globs() {
    assertThat(WebhookFilter.matches("main", "main")).isTrue();
    assertThat(WebhookFilter.matches("main", "main2")).isFalse();
    assertThat(WebhookFilter.matches("release/*", "release/1.0")).isTrue();
    assertThat(WebhookFilter.matches("release/*", "release/1.0/hotfix")).isFalse();
    assertThat(WebhookFilter.matches("release/**", "release/1.0/hotfix")).isTrue();
    assertThat(WebhookFilter.matches("*", "feature/x")).isFalse();
    assertThat(WebhookFilter.matches("**", "feature/x")).isTrue();
    // regex characters in a name are literal
    assertThat(WebhookFilter.matches("v1.0", "v1x0")).isFalse();
    assertThat(WebhookFilter.matches("a+b", "a+b")).isTrue();
  }

  @Test
  void pushes() {
    assertThat(WebhookFilter.ignored(repo(List.of(), true, false), push("refs/heads/main", "main"))).isEmpty();
    assertThat(WebhookFilter.ignored(repo(List.of(), true, false), push("refs/heads/dev", "main")))
        .hasValueSatisfying(r -> assertThat(r).contains("dev").contains("default branch"));
    // no default branch named: nudge rather than lose a build
    assertThat(WebhookFilter.ignored(repo(List.of(), true, false), push("refs/heads/dev", null))).isEmpty();
    assertThat(WebhookFilter.ignored(repo(List.of("main", "release/*"), true, false),
        push("refs/heads/release/2", "main"))).isEmpty();
    assertThat(WebhookFilter.ignored(repo(List.of("main", "release/*"), true, false),
        push("refs/heads/feature", "main"))).isPresent();
    assertThat(WebhookFilter.ignored(repo(List.of("**"), true, false), push("refs/tags/v1", "main")))
        .hasValueSatisfying(r -> assertThat(r).contains("refs/tags/v1"));
  }

  @Test
  void pullRequests() {
    assertThat(WebhookFilter.ignored(repo(List.of(), true, false), pr("opened", false))).isEmpty();
    assertThat(WebhookFilter.ignored(repo(List.of(), true, false), pr("synchronized", false))).isEmpty();
    assertThat(WebhookFilter.ignored(repo(List.of(), true, false), pr("opened", true)))
        .hasValueSatisfying(r -> assertThat(r).contains("forks"));
    assertThat(WebhookFilter.ignored(repo(List.of(), true, true), pr("opened", true))).isEmpty();
    assertThat(WebhookFilter.ignored(repo(List.of(), false, true), pr("opened", false))).isPresent();
    assertThat(WebhookFilter.ignored(repo(List.of(), true, false), pr("labeled", false))).isPresent();
    assertThat(WebhookFilter.ignored(repo(List.of(), true, false),
        new WebhookEvent("issues", null, null, false, "main"))).isPresent();
  }
}
