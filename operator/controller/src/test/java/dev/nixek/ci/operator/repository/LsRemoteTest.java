package dev.nixek.ci.operator.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.nixek.ci.operator.testing.GitRepos;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parsing git ls-remote's output, and real git runs: a local repository, and a token that stays out of sight. */
class LsRemoteTest {
  private static final String A = "a".repeat(40);
  private static final String B = "b".repeat(40);

  @Test
  void parsesSymrefHeadsAndPullRefs() {
    LsRemote.Heads heads = LsRemote.parse("ref: refs/heads/trunk\tHEAD\n" + A + "\tHEAD\n" + A
        + "\trefs/heads/trunk\n" + B + "\trefs/pull/3/head\n" + B + "\trefs/tags/v1^{}\nnot a line\n\n"
        + "xyz\trefs/heads/bad\n");
    assertThat(heads.defaultBranch()).isEqualTo("trunk");
    assertThat(heads.refs()).containsExactlyInAnyOrderEntriesOf(Map.of("refs/heads/trunk", A, "refs/pull/3/head", B));
    assertThat(LsRemote.parse("").refs()).isEmpty();
    assertThat(LsRemote.parse("").defaultBranch()).isNull();
  }

  @Test
  void theTokenIsAHeaderForTheRepositorysOriginOnlyAndNeverAnArgument() {
    Map<String, String> env = LsRemote.environment("https://git.example.com:3000/o/r.git", "s3cret", false,
        Map.of("PATH", "/bin", "GIT_DIR", "/elsewhere", "AWS_SECRET_ACCESS_KEY", "x"));
    assertThat(env).doesNotContainKeys("GIT_DIR", "AWS_SECRET_ACCESS_KEY")
        .containsEntry("GIT_ALLOW_PROTOCOL", "https:http:ssh").containsEntry("GIT_TERMINAL_PROMPT", "0")
        .containsEntry("GIT_CONFIG_COUNT", "2")
        .containsEntry("GIT_CONFIG_KEY_1", "http.https://git.example.com:3000/.extraHeader")
        .containsEntry("GIT_CONFIG_VALUE_1", "Authorization: Basic " + Base64.getEncoder()
            .encodeToString("x-access-token:s3cret".getBytes(StandardCharsets.UTF_8)));
    assertThat(LsRemote.environment("ssh://git@host/o/r", "s3cret", true, Map.of()))
        .containsEntry("GIT_CONFIG_COUNT", "1").containsEntry("GIT_ALLOW_PROTOCOL", "https:http:ssh:file")
        .doesNotContainValue("s3cret");
  }

  @Test
  void listsALocalRepositorysBranchesAndDefaultBranch(@TempDir Path dir) throws Exception {
    Path work = dir.resolve("work");
    Files.createDirectories(work);
    Files.writeString(work.resolve("f"), "1");
    String first = GitRepos.commitAll(work);
    git(work, "branch", "-M", "main");
    git(work, "checkout", "-q", "-b", "feature");
    Files.writeString(work.resolve("f"), "2");
    String second = GitRepos.commitAll(work);
    git(work, "checkout", "-q", "main");
    LsRemote.Heads heads = new LsRemote("git", true).list("file://" + work, null);
    assertThat(heads.defaultBranch()).isEqualTo("main");
    assertThat(heads.refs()).containsEntry("refs/heads/main", first).containsEntry("refs/heads/feature", second);
    assertThatThrownBy(() -> new LsRemote("git", false).list("file://" + work, null))
        .isInstanceOf(LsRemote.Failure.class).hasMessageContaining("failed");
    assertThatThrownBy(() -> new LsRemote("git", true).list("file://" + dir.resolve("missing"), null))
        .isInstanceOf(LsRemote.Failure.class).hasMessageContaining("failed (exit");
  }

  @Test
  void sendsTheTokenAsBasicAuthAndKeepsItOutOfTheError() throws Exception {
    List<String> authorizations = new CopyOnWriteArrayList<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      String auth = exchange.getRequestHeaders().getFirst("Authorization");
      authorizations.add(auth == null ? "none" : auth);
      byte[] body = "denied".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(403, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/o/r.git";
      assertThatThrownBy(() -> new LsRemote("git", false).list(url, "tok-123"))
          .isInstanceOf(LsRemote.Failure.class)
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("tok-123")
              .doesNotContain(Base64.getEncoder().encodeToString("x-access-token:tok-123".getBytes())));
      assertThat(authorizations).isNotEmpty().allSatisfy(a -> assertThat(a).isEqualTo("Basic "
          + Base64.getEncoder().encodeToString("x-access-token:tok-123".getBytes(StandardCharsets.UTF_8))));
    } finally {
      server.stop(0);
    }
  }

  private static void git(Path dir, String... args) throws Exception {
    List<String> argv = new java.util.ArrayList<>(List.of("git"));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor()).isZero();
  }
}
