package dev.nixek.ci.e2e;

import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryForge;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryPullRequests;
import dev.nixek.ci.api.v1alpha1.NixekRepositorySpec;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.testing.kube.GiteaServer;
import dev.nixek.ci.testing.kube.PodGitConfig;
import dev.nixek.ci.testing.kube.RequiredTools;
import dev.nixek.ci.testing.kube.TestKubelet;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The whole stack on the real kube-apiserver tier with a real Gitea and evaluation pods on the test kubelet (real nix,
 * the builder jar): the tier of the repository tests, whose commits and jobs are evaluated in pods and run on the
 * local provider with the real agent.
 */
abstract class GiteaPodsStackTier extends RealApiServerStackTier {
  TestKubelet kubelet;
  GiteaServer gitea;

  @Override
  Map<String, String> stackEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("NIXEK_IMAGE_NIX_DIR", NixJobsE2E.NIX.toString());
    env.put("NIXEK_IMAGE_AGENT_JAR", NixJobsE2E.AGENT_JAR.toString());
    env.put("NIXEK_IMAGE_NIXPKGS", NixJobsE2E.STUB.toString());
    env.put("NIXEK_EVAL_COMMAND", String.join(" ", Stack.javaJar("operator/builder/target/nixek-builder.jar")));
    env.put("NIXEK_EVAL_RUNNER", "pod");
    return env;
  }

  @BeforeEach
  void startKubeletAndForge() throws Exception {
    RequiredTools.nix();
    TestKubelet.passableByPods(work);
    Map<String, String> git = PodGitConfig.trustingAll(work);
    kubelet = TestKubelet.builder(client).namespace(ns).onStart(launch -> {
      launch.environment().put("NIX_CONFIG", "substituters =");
      launch.environment().putAll(git);
    }).start();
    gitea = GiteaServer.start();
  }

  @AfterEach
  void stopKubeletAndForge() {
    if (gitea != null) {
      gitea.close();
    }
    if (kubelet != null) {
      kubelet.close();
    }
  }

  /**
   * A NixekRepository {@code name} of Gitea repository {@code repo}: branch main, no pull requests, the token of
   * Secret {@code forge} key {@code token}. Not created: callers add to it.
   */
  NixekRepository giteaRepository(String name, GiteaServer.Repo repo) {
    NixekRepository r = new NixekRepository();
    r.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    r.setSpec(new NixekRepositorySpec());
    r.getSpec().url = repo.cloneUrl();
    r.getSpec().forge = new NixekRepositoryForge();
    r.getSpec().forge.kind = "gitea";
    r.getSpec().forge.apiUrl = gitea.url() + "api/v1";
    r.getSpec().branches = List.of("main");
    r.getSpec().pullRequests = new NixekRepositoryPullRequests();
    r.getSpec().pullRequests.enabled = false;
    r.getSpec().tokenSecretRef = new NixekSecretKeyRef("forge", "token");
    return r;
  }

  /** The jobs of a repository's commit. */
  List<NixekJob> jobsOf(String commit) {
    return client.resources(NixekJob.class).inNamespace(ns).withLabel("ci.nixek.dev/commit", commit).list()
        .getItems();
  }

  /** The job {@code name} once it has ended (at most 180 s). */
  NixekJob awaitTerminal(String name) {
    await().atMost(Duration.ofSeconds(180)).until(() -> {
      NixekJob j = client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
      return j != null && Conditions.isTerminal(j.getStatus());
    });
    return client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
  }

  static Condition succeeded(NixekJob job) {
    return Conditions.find(job.getStatus().conditions, "Succeeded").orElseThrow();
  }
}
