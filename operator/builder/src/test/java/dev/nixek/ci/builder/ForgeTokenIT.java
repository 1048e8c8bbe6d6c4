package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.testing.kube.GitHttpServer;
import dev.nixek.ci.testing.kube.RequiredTools;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A private repository's flake fetched with its token ({@code --forge-token-file}), with real nix (the image's
 * version) and real git over smart HTTP: the repository's server demands {@code Authorization: Basic
 * base64(x-access-token:<token>)}, and a flake input on a second server (another origin) records what it gets. Both
 * {@code job-names} and {@code evaluate} fetch the flake; the header goes to the repository's origin only; the token
 * is redacted from the log and the termination message even when the flake prints it; nix runs with the git
 * configuration in a 0700 directory, {@code GIT_CONFIG_NOSYSTEM}, no prompt and no trace, and the directory is gone
 * once the builder has answered.
 */
class ForgeTokenIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "gitea-" + "f0rg3t0k3n-5ecr3t-0123456789abcdef";
  private static final String BASIC = "Basic " + Base64.getEncoder()
      .encodeToString(("x-access-token:" + TOKEN).getBytes(StandardCharsets.UTF_8));

  @TempDir
  Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private GitHttpServer forge;
  private GitHttpServer elsewhere;
  private Path tokenFile;
  private Path seen;
  private Path nixInstantiate;
  private String rev;
  private String leakingRev;

  @BeforeEach
  void repositories() throws Exception {
    RequiredTools.nix();
    Path repos = dir.resolve("repos");
    Path otherRepos = dir.resolve("other-repos");
    forge = new GitHttpServer(repos, BASIC);
    elsewhere = new GitHttpServer(otherRepos, null);
    tokenFile = dir.resolve("forge-token");
    Files.writeString(tokenFile, TOKEN + "\n");

    // a flake input on another origin: it must be fetched without the header
    Path lib = dir.resolve("lib");
    Files.createDirectories(lib);
    Files.writeString(lib.resolve("greeting"), "hello-" + UUID.randomUUID().toString().substring(0, 8));
    String libRev = commit(lib, "lib");
    git(otherRepos, "clone", "-q", "--bare", lib.toString(), "lib.git");

    Path app = dir.resolve("app");
    Files.createDirectories(app);
    Files.writeString(app.resolve("flake.nix"), """
        {
          inputs.lib = { url = "git+%s?rev=%s"; flake = false; };
          outputs = { self, lib }: {
            ci.jobs.${builtins.readFile (lib + "/greeting")} = { }: {
              steps = [ { name = "greet"; command = [ "echo" "hi" ]; } ];
            };
          };
        }
        """.formatted(elsewhere.url("lib.git"), libRev));
    rev = commit(app, "app");
    // a later commit whose flake prints what it can read: the token file's content, in its error
    Files.writeString(app.resolve("flake.nix"), """
        { outputs = { self }: { ci.jobs = throw "leaked: ${builtins.readFile %s}"; }; }
        """.formatted(tokenFile));
    leakingRev = commit(app, "leak");
    git(repos, "clone", "-q", "--bare", app.toString(), "app.git");

    // nix-instantiate as the builder runs it, recording the git environment it was given and the config's mode
    seen = dir.resolve("seen");
    nixInstantiate = dir.resolve("nix-instantiate");
    Files.writeString(nixInstantiate, String.join("\n", "#!/bin/sh",
        "{ echo \"config=$GIT_CONFIG_GLOBAL\"; echo \"nosystem=$GIT_CONFIG_NOSYSTEM\";",
        "  echo \"prompt=$GIT_TERMINAL_PROMPT\"; echo \"trace=${GIT_TRACE-unset}\";",
        "  echo \"curl=${GIT_CURL_VERBOSE-unset}\"; echo \"askpass=${GIT_ASKPASS-unset}\";",
        "  echo \"mode=$(stat -c %a \"$(dirname \"$GIT_CONFIG_GLOBAL\")\")\"; } > " + seen,
        "exec nix-instantiate \"$@\"", ""));
    Files.setPosixFilePermissions(nixInstantiate, PosixFilePermissions.fromString("rwx------"));
  }

  @AfterEach
  void stop() {
    forge.close();
    elsewhere.close();
  }

  @Test
  void jobNamesFetchesThePrivateFlakeWithTheHeaderSentToItsOriginOnly() throws Exception {
    int exit = jobNames(rev, true);

    assertThat(exit).as(log()).isZero();
    assertThat(message().get("names").toString()).startsWith("[\"hello-");
    assertThat(forge.requests()).isNotEmpty().allSatisfy(r -> assertThat(r.authorization()).isEqualTo(BASIC));
    assertThat(elsewhere.requests()).as("the input's origin was fetched").isNotEmpty()
        .allSatisfy(r -> assertThat(r.authorization()).isNull());
    assertTheGitEnvironmentWasConfinedAndIsGone();
  }

  @Test
  void withoutTheTokenThePrivateFlakeDoesNotEvaluate() throws Exception {
    int exit = jobNames(rev, false);

    assertThat(exit).as(log()).isEqualTo(ExitCode.BUILD_FAILED);
    // (the test's GIT_ASKPASS answers git's prompt with the prompt: not the token either)
    assertThat(forge.requests()).isNotEmpty().allSatisfy(r -> assertThat(r.authorization()).isNotEqualTo(BASIC));
  }

  @Test
  void aFlakeThatPrintsTheTokenShowsItRedactedInTheLogAndTheTerminationMessage() throws Exception {
    int exit = jobNames(leakingRev, true);

    assertThat(exit).as(log()).isEqualTo(ExitCode.BUILD_FAILED);
    String message = Files.readString(dir.resolve("termination-log"));
    assertThat(message).contains("leaked: " + Redactor.MASK).doesNotContain(TOKEN);
    assertThat(log()).contains("leaked: " + Redactor.MASK).doesNotContain(TOKEN);
    assertTheGitEnvironmentWasConfinedAndIsGone();
  }

  @Test
  void evaluateFetchesThePrivateFlakeWithTheTokenAndPostsTheJob() throws Exception {
    Path evalToken = dir.resolve("eval-token");
    Files.writeString(evalToken, "nxkev_" + "evaluationtokenevaluationtoken0123");
    try (FakeReportApi api = new FakeReportApi()) {
      List<String> args = new ArrayList<>(List.of("evaluate", "--nix-dir", EvaluateIT.NIX.toString(),
          "--agent-jar", EvaluateIT.AGENT_JAR.toString(), "--report-url", api.url(), "--job", "ci/hello",
          "--token-file", evalToken.toString(), "--termination-log", dir.resolve("termination-log").toString(),
          "--report-timeout-seconds", "3", "--no-machine", "--nix-instantiate", nixInstantiate.toString(),
          "--flake", "git+" + forge.url("app.git") + "?rev=" + rev, "--attribute", "ci.jobs",
          "--forge-token-file", tokenFile.toString()));
      String name = message(jobNames(rev, true)).get("names").get(0).asText();
      args.set(args.indexOf("ci.jobs"), "ci.jobs." + name);
      out.reset();
      int exit = new Main(env(), new PrintStream(out, true, StandardCharsets.UTF_8)).run(args.toArray(String[]::new));

      assertThat(exit).as(log()).isZero();
      assertThat(JSON.readTree(api.received().get(0).body()).get("steps").get(0).get("name").asText())
          .isEqualTo("greet");
      assertThat(forge.requests()).allSatisfy(r -> assertThat(r.authorization()).isEqualTo(BASIC));
      assertThat(elsewhere.requests()).allSatisfy(r -> assertThat(r.authorization()).isNull());
      assertTheGitEnvironmentWasConfinedAndIsGone();
    }
  }

  @Test
  void theTokenIsRefusedForAFlakeOverPlainHttpToAnotherHost() throws Exception {
    List<String> args = List.of("job-names", "--flake", "git+http://git.example.com/org/app.git?rev=" + rev,
        "--attribute", "ci.jobs", "--termination-log", dir.resolve("termination-log").toString(),
        "--forge-token-file", tokenFile.toString());
    int exit = new Main(env(), new PrintStream(out, true, StandardCharsets.UTF_8)).run(args.toArray(String[]::new));

    assertThat(exit).isEqualTo(ExitCode.USAGE);
    assertThat(Files.readString(dir.resolve("termination-log"))).contains("only sent over https")
        .doesNotContain(TOKEN);
  }

  private void assertTheGitEnvironmentWasConfinedAndIsGone() throws IOException {
    Map<String, String> env = new HashMap<>();
    for (String line : Files.readAllLines(seen)) {
      env.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
    }
    assertThat(env).containsEntry("nosystem", "1").containsEntry("prompt", "0").containsEntry("trace", "unset")
        .containsEntry("curl", "unset").containsEntry("askpass", "unset").containsEntry("mode", "700");
    Path config = Path.of(env.get("config"));
    assertThat(config.getFileName().toString()).isEqualTo("gitconfig");
    assertThat(config).doesNotExist();
    assertThat(config.getParent()).doesNotExist();
  }

  private int jobNames(String ref, boolean withToken) {
    List<String> args = new ArrayList<>(List.of("job-names", "--flake", "git+" + forge.url("app.git") + "?rev=" + ref,
        "--attribute", "ci.jobs", "--termination-log", dir.resolve("termination-log").toString(),
        "--nix-instantiate", nixInstantiate.toString()));
    if (withToken) {
      args.addAll(List.of("--forge-token-file", tokenFile.toString()));
    }
    return new Main(env(), new PrintStream(out, true, StandardCharsets.UTF_8)).run(args.toArray(String[]::new));
  }

  /** The test's environment with git's tracing and an askpass on: the builder must not pass them to nix. */
  private Map<String, String> env() {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("NIX_CONFIG", "substituters =");
    env.put("XDG_CACHE_HOME", dir.resolve("cache").toString());
    env.put("GIT_TRACE", "1");
    env.put("GIT_CURL_VERBOSE", "1");
    env.put("GIT_ASKPASS", "/bin/echo");
    return env;
  }

  private JsonNode message() throws IOException {
    return JSON.readTree(Files.readAllBytes(dir.resolve("termination-log")));
  }

  private JsonNode message(int exit) throws IOException {
    assertThat(exit).as(log()).isZero();
    return message();
  }

  private String log() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private static String commit(Path repo, String what) throws Exception {
    if (!Files.exists(repo.resolve(".git"))) {
      git(repo, "init", "-q");
    }
    git(repo, "add", "-A");
    git(repo, "-c", "user.email=test@nixek.dev", "-c", "user.name=test", "commit", "-q", "-m", what);
    Process p = new ProcessBuilder("git", "rev-parse", "HEAD").directory(repo.toFile()).start();
    String rev = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    p.waitFor(30, TimeUnit.SECONDS);
    return rev;
  }

  private static void git(Path in, String... args) throws Exception {
    Files.createDirectories(in);
    List<String> argv = new ArrayList<>(List.of("git"));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).directory(in.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as(argv + ": " + output).isTrue();
  }
}
