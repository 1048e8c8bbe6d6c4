package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.testing.kube.RequiredTools;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code job-names} with real nix over a flake in a local git repository at a pinned revision: the names, and each
 * answer a repository's condition names (a missing attribute, an attribute that is not a set of jobs, too many jobs),
 * and a flake that does not evaluate (exit 2 with nix's error).
 */
class JobNamesIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private Path repo;
  private String rev;

  @BeforeEach
  void flake() throws Exception {
    RequiredTools.nix();
    repo = dir.resolve("repo");
    Files.createDirectories(repo);
    Files.writeString(repo.resolve("flake.nix"), """
        {
          outputs = { self }: {
            ci.jobs = {
              hello = { steps = [ { name = "greet"; run = "echo hello"; } ]; };
              fails = { }: { steps = [ { name = "fail"; run = "exit 3"; } ]; };
            };
            ci.list = [ 1 ];
            ci.mixed = { good = { }; bad = "a string"; };
            ci.drv = { type = "derivation"; name = "x"; };
          };
        }
        """);
    run("git", "init", "-q");
    run("git", "add", "-A");
    run("git", "-c", "user.email=test@nixek.dev", "-c", "user.name=test", "commit", "-q", "-m", "jobs");
    Process p = new ProcessBuilder("git", "rev-parse", "HEAD").directory(repo.toFile()).start();
    rev = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    p.waitFor(30, TimeUnit.SECONDS);
    // a later commit that does not evaluate: the pinned rev is what counts
    Files.writeString(repo.resolve("flake.nix"), "{ outputs = { self }: { ci.jobs = throw \"later\"; }; }");
    run("git", "-c", "user.email=test@nixek.dev", "-c", "user.name=test", "commit", "-q", "-am", "later");
  }

  private int jobNames(String ref, String attribute, String... more) {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("job-names", "--flake",
        "git+file://" + repo + "?rev=" + ref, "--attribute", attribute, "--termination-log",
        dir.resolve("termination-log").toString()));
    args.addAll(java.util.List.of(more));
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("NIX_CONFIG", "substituters =");
    return new Main(env, new PrintStream(out, true, StandardCharsets.UTF_8)).run(args.toArray(String[]::new));
  }

  private JsonNode message() throws Exception {
    return JSON.readTree(Files.readAllBytes(dir.resolve("termination-log")));
  }

  @Test
  void theJobNamesAtThePinnedRevision() throws Exception {
    assertThat(jobNames(rev, "ci.jobs")).as(out.toString()).isZero();
    assertThat(message().toString()).isEqualTo("{\"names\":[\"fails\",\"hello\"]}");
  }

  @Test
  void aMissingAttributeIsAnswered() throws Exception {
    assertThat(jobNames(rev, "ci.nope.jobs")).isZero();
    assertThat(message().get("reason").asText()).isEqualTo("AttributeMissing");
    assertThat(message().get("error").asText()).contains("ci.nope.jobs").contains("'nope'");
  }

  @Test
  void attributesThatAreNotSetsOfJobsAreAnswered() throws Exception {
    assertThat(jobNames(rev, "ci.list")).isZero();
    assertThat(message().get("reason").asText()).isEqualTo("NotAJobSet");
    assertThat(message().get("error").asText()).contains("a list");
    assertThat(jobNames(rev, "ci.mixed")).isZero();
    assertThat(message().get("reason").asText()).isEqualTo("NotAJobSet");
    assertThat(message().get("error").asText()).contains("ci.mixed.bad is a string");
    assertThat(jobNames(rev, "ci.drv")).isZero();
    assertThat(message().get("reason").asText()).isEqualTo("NotAJobSet");
  }

  @Test
  void moreJobsThanTheLimitAreAnswered() throws Exception {
    assertThat(jobNames(rev, "ci.jobs", "--max-jobs", "1")).isZero();
    assertThat(message().get("reason").asText()).isEqualTo("TooManyJobs");
    assertThat(message().get("error").asText()).contains("2 jobs").contains("at most 1");
  }

  @Test
  void aFlakeThatDoesNotEvaluateFailsWithNixsError() throws Exception {
    Process p = new ProcessBuilder("git", "rev-parse", "HEAD").directory(repo.toFile()).start();
    String later = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(jobNames(later, "ci.jobs")).isEqualTo(ExitCode.BUILD_FAILED);
    assertThat(message().get("error").asText()).contains("later");
    assertThat(message().has("names")).isFalse();
  }

  private void run(String... argv) throws Exception {
    Process p = new ProcessBuilder(argv).directory(repo.toFile()).redirectErrorStream(true).start();
    String o = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", argv) + ": " + o).isZero();
  }
}
