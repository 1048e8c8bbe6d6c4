package dev.nixek.ci.e2e;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobSource;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.Conditions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The checkout step through the whole stack on a real kube-apiserver: the operator puts it first, the real agent
 * (local provider) checks a real repository out at a commit that is not the branch tip, the report API takes its
 * reports as step 0, and the job's own step sees the files.
 */
class CheckoutE2E extends RealApiServerStackTier {
  @Test
  void aJobWithASourceChecksOutTheCommitFirstAndItsStepSeesTheFiles() throws Exception {
    Path repos = Files.createDirectories(work.resolve("repos"));
    Path src = Files.createDirectories(repos.resolve("src"));
    git(src, "init", "-q");
    List<String> commits = new ArrayList<>();
    for (String v : List.of("one", "two", "three")) {
      Files.writeString(src.resolve("version.txt"), v + "\n");
      git(src, "add", "version.txt");
      git(src, "commit", "-q", "-m", v);
      commits.add(git(src, "rev-parse", "HEAD"));
    }
    git(repos, "clone", "-q", "--bare", src.toString(), repos.resolve("hello.git").toString());
    String middle = commits.get(1);

    NixekJob j = job(ns, "checkout", run("build", "cat version.txt; git rev-parse HEAD"));
    j.getSpec().source = new NixekJobSource("file://" + repos.resolve("hello.git"), middle);
    client.resources(NixekJob.class).inNamespace(ns).resource(j).create();

    await().atMost(Duration.ofMinutes(3)).until(() -> {
      NixekJob now = client.resources(NixekJob.class).inNamespace(ns).withName("checkout").get();
      return now.getStatus() != null && Conditions.isTerminal(now.getStatus());
    });
    NixekJob done = client.resources(NixekJob.class).inNamespace(ns).withName("checkout").get();
    var succeeded = Conditions.find(done.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow();
    assertThat(succeeded.getStatus()).as(succeeded.getMessage()).isEqualTo("True");
    assertThat(done.getStatus().steps).extracting(s -> s.name, s -> s.state).containsExactly(
        org.assertj.core.groups.Tuple.tuple("checkout", State.Succeeded),
        org.assertj.core.groups.Tuple.tuple("build", State.Succeeded));
    assertThat(done.getStatus().steps.get(0).outputTail).contains("$ git fetch --depth 1 --no-tags origin " + middle);
    assertThat(done.getStatus().steps.get(1).outputTail).isEqualTo("two\n" + middle + "\n");
    assertThat(done.getStatus().currentStep).isEqualTo("2/2");
  }

  private static String git(Path dir, String... args) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(List.of("git", "-c", "user.name=test", "-c", "user.email=test@example.com",
        "-c", "init.defaultBranch=main"));
    argv.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
    pb.environment().put("GIT_CONFIG_GLOBAL", "/dev/null");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("git " + String.join(" ", args) + ": " + out);
    }
    return out;
  }
}
