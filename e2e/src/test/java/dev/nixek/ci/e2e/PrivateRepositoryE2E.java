package dev.nixek.ci.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.testing.kube.GiteaServer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A private repository's commit evaluates and its jobs run, on a real kube-apiserver with the whole stack, a real
 * Gitea and real nix in pods on the test kubelet (docs/repositories.md, "Private repositories: the evaluations'
 * token"): the commit evaluation pod and the repository's job's evaluation pod fetch the private flake with the
 * repository's token, mounted from their short-lived Secrets (the commit's is deleted once its answer is used); a
 * user's own NixekJob naming the same URL and commit gets no token and fails to evaluate with Gitea's refusal. The
 * token is in no pod spec (every version of every pod made, watched), ConfigMap, status, Event, operator log or
 * report API log.
 */
class PrivateRepositoryE2E extends GiteaPodsStackTier {
  private static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension
  final OperatorLog operatorLog = new OperatorLog();

  @Test
  void aPrivateRepositorysCommitAndJobsEvaluateWithItsTokenWhichShowsNowhere() throws Exception {
    // every version of every pod made in the namespace (commit evaluation pods are deleted once answered)
    List<Pod> pods = new CopyOnWriteArrayList<>();
    Watch watch = client.pods().inNamespace(ns).watch(new Watcher<>() {
      @Override
      public void eventReceived(Action action, Pod pod) {
        pods.add(pod);
      }

      @Override
      public void onClose(WatcherException cause) {}
    });
    GiteaServer.Repo repo = gitea.createRepo("secret-app", true);
    String commit = gitea.commitAndPush(repo, work.resolve("wt"), "main", Map.of("flake.nix", """
        {
          outputs = { self }: {
            ci.jobs.hello = { }: {
              machine = { pkgs, ... }: { environment.systemPackages = [ pkgs.rustup pkgs.git ]; };
              steps = [ { name = "hello"; run = "test -f flake.nix && echo hello from a private repository"; } ];
            };
          };
        }
        """), "jobs");
    String token = gitea.token();
    client.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName("forge").endMetadata()
        .addToStringData("token", token).build()).create();
    NixekRepository r = giteaRepository("secret-app", repo);
    r.getSpec().pollInterval = "1h";
    client.resources(NixekRepository.class).inNamespace(ns).resource(r).create();

    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
        assertThat(jobsOf(commit)).as("the repository's jobs; its Ready condition: %s", ready()).hasSize(1));
    NixekJob hello = awaitTerminal(jobsOf(commit).get(0).getMetadata().getName());
    assertThat(succeeded(hello).getStatus()).as(succeeded(hello).getMessage() + "\n" + stack.reportApiLogs())
        .isEqualTo("True");
    assertThat(hello.getStatus().evaluation).isNotNull();

    // a user's own job naming the same private URL and commit: no token, so Gitea refuses the fetch
    NixekJob own = new NixekJob();
    own.setMetadata(new ObjectMetaBuilder().withName("users-own").withNamespace(ns).build());
    own.setSpec(new NixekJobSpec());
    own.getSpec().flake = new NixekJobFlake();
    own.getSpec().flake.url = "git+" + repo.cloneUrl();
    own.getSpec().flake.rev = commit;
    own.getSpec().flake.attribute = "ci.jobs.hello";
    client.resources(NixekJob.class).inNamespace(ns).resource(own).create();
    NixekJob refused = awaitTerminal("users-own");
    assertThat(succeeded(refused).getStatus()).isEqualTo("False");
    assertThat(succeeded(refused).getReason()).as(succeeded(refused).getMessage()).isEqualTo("EvaluationFailed");

    // the commit's Secret is gone with its answer; the job's with its recorded evaluation
    await().atMost(Duration.ofSeconds(30)).until(() -> client.secrets().inNamespace(ns).list().getItems().stream()
        .noneMatch(s -> s.getData() != null && s.getData().containsKey("forge-token")));
    watch.close();
    assertThat(pods).as("the commit evaluation pod mounted the repository's token")
        .anySatisfy(p -> assertThat(isForged(p, "repository-evaluation")).isTrue());
    assertThat(pods).as("the repository's job's evaluation pod mounted it")
        .anySatisfy(p -> assertThat(isForged(p, "job-evaluation") && p.getMetadata().getName()
            .equals("nixek-eval-" + hello.getMetadata().getUid())).isTrue());
    assertThat(pods).as("the user's own job's evaluation pod did not")
        .filteredOn(p -> p.getMetadata().getName().equals("nixek-eval-" + refused.getMetadata().getUid()))
        .isNotEmpty().allSatisfy(p -> assertThat(isForged(p, "job-evaluation")).isFalse());

    String basic = Base64.getEncoder().encodeToString(("x-access-token:" + token).getBytes(StandardCharsets.UTF_8));
    String encoded = Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.UTF_8));
    StringBuilder everything = new StringBuilder();
    for (Pod p : pods) {
      everything.append(JSON.writeValueAsString(p));
    }
    everything.append(JSON.writeValueAsString(client.pods().inNamespace(ns).list().getItems()))
        .append(JSON.writeValueAsString(client.configMaps().inNamespace(ns).list().getItems()))
        .append(JSON.writeValueAsString(client.resources(NixekRepository.class).inNamespace(ns).list().getItems()))
        .append(JSON.writeValueAsString(client.resources(NixekJob.class).inNamespace(ns).list().getItems()))
        .append(JSON.writeValueAsString(client.v1().events().inNamespace(ns).list().getItems()))
        .append(stack.reportApiLogs());
    everything.append(operatorLog.text());
    assertThat(operatorLog.events()).as("the operator's log was captured").isNotEmpty();
    assertThat(everything.toString()).doesNotContain(token).doesNotContain(basic).doesNotContain(encoded);
  }

  /** Whether {@code pod} is of {@code component} and mounts the repository's token and names its file. */
  private static boolean isForged(Pod pod, String component) {
    return component.equals(pod.getMetadata().getLabels().get("app.kubernetes.io/component"))
        && pod.getSpec().getVolumes().stream().anyMatch(v -> v.getSecret() != null && v.getSecret().getItems() != null
            && v.getSecret().getItems().stream().anyMatch(i -> i.getKey().equals("forge-token")))
        && pod.getSpec().getContainers().get(0).getCommand().contains("--forge-token-file");
  }

  private Condition ready() {
    NixekRepository r = client.resources(NixekRepository.class).inNamespace(ns).withName("secret-app").get();
    return r == null || r.getStatus() == null ? null
        : Conditions.find(r.getStatus().conditions, Conditions.READY).orElse(null);
  }
}
