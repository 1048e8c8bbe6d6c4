package dev.nixek.ci.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import dev.nixek.ci.testing.kube.GiteaServer;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * From a push to a green check, on a real kube-apiserver with the whole stack: a real Gitea holds a flake with
 * {@code ci.jobs.hello} and {@code ci.jobs.fails}; {@code git push}; Gitea's signed webhook reaches the report API
 * process, which nudges the NixekRepository; the operator lists the heads, evaluates the commit's job names (an
 * evaluation pod on the test kubelet, real nix), makes two NixekJobs that run on the local provider with the real
 * agent, and posts their commit statuses to Gitea: success for hello, failure for fails. A push while a commit's jobs
 * run cancels them; with the webhook disabled, polling finds the next commit; the token and the webhook secret are in
 * no repository, job, Event or report API log.
 */
class RepositoryWebhookE2E extends GiteaPodsStackTier {
  private static final String HOOK_SECRET = "e2e-webhook-secret";

  private static String flake(String helloRun) {
    return """
        {
          outputs = { self }: {
            ci.jobs.hello = { }: {
              machine = { pkgs, ... }: { environment.systemPackages = [ pkgs.rustup pkgs.git ]; };
              steps = [ { name = "hello"; run = "%s"; } ];
            };
            ci.jobs.fails = { }: {
              machine = { pkgs, ... }: { environment.systemPackages = [ pkgs.rustup pkgs.git ]; };
              steps = [ { name = "fail"; run = "exit 3"; } ];
            };
          };
        }
        """.formatted(helloRun);
  }

  @Test
  void pushWebhookJobsStatusesThenPolling() throws Exception {
    GiteaServer.Repo repo = gitea.createRepo("hello", false);
    client.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName("forge").endMetadata()
        .addToStringData("token", gitea.token()).addToStringData("webhook", HOOK_SECRET).build()).create();
    NixekRepository r = giteaRepository("hello", repo);
    r.getSpec().webhookSecretRef = new NixekSecretKeyRef("forge", "webhook");
    // only the webhook can find the first push in time
    r.getSpec().pollInterval = "24h";
    client.resources(NixekRepository.class).inNamespace(ns).resource(r).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> get().getStatus() != null
        && get().getStatus().sealedWebhookSecret != null);
    // the report API's watch has it a moment later
    Thread.sleep(2_000);
    long hook = gitea.addWebhook(repo, "gitea", stack.reportUrl() + "/v1/webhooks/" + ns + "/hello", HOOK_SECRET);

    long pushed = System.nanoTime();
    String first = gitea.commitAndPush(repo, work.resolve("wt"), "main",
        Map.of("flake.nix", flake("test -f flake.nix && echo hello from the checkout")), "jobs");
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(() -> get().getStatus().webhook != null);
    long recorded = System.nanoTime();
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(50))
        .until(() -> jobsOf(first).size() == 2);
    long created = System.nanoTime();
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(50)).until(() -> jobsOf(first).stream()
        .anyMatch(j -> j.getStatus() != null && j.getStatus().steps != null && j.getStatus().steps.stream()
            .anyMatch(st -> st.state != null && st.state != dev.nixek.ci.api.v1alpha1.NixekStepStatus.State.Pending)));
    long running = System.nanoTime();
    // numbers for the docs, not assertions (docs/webhooks.md#numbers)
    System.out.printf("REPOSITORY-E2E push->webhook recorded %d ms, push->jobs created %d ms, push->first step "
        + "running %d ms, loadavg %s%n", (recorded - pushed) / 1_000_000, (created - pushed) / 1_000_000,
        (running - pushed) / 1_000_000, Files.readString(java.nio.file.Path.of("/proc/loadavg")).strip());
    assertThat(get().getStatus().webhook.event).isEqualTo("push");
    assertThat(get().getStatus().webhook.ref).isEqualTo("refs/heads/main");

    Map<String, NixekJob> jobs = awaitJobs(first, 2, Duration.ofSeconds(180));
    NixekJob hello = awaitTerminal(jobs, "hello");
    NixekJob fails = awaitTerminal(jobs, "fails");
    assertThat(succeeded(hello).getStatus()).as(succeeded(hello).getMessage() + "\n" + stack.reportApiLogs())
        .isEqualTo("True");
    assertThat(succeeded(fails).getStatus()).as(succeeded(fails).getMessage()).isEqualTo("False");
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      Map<String, String> states = gitea.statuses(repo, first).stream().collect(Collectors.toMap(
          GiteaServer.CommitStatus::context, GiteaServer.CommitStatus::state, (newest, older) -> newest));
      assertThat(states).containsEntry("nixek-ci/hello", "success").containsEntry("nixek-ci/fails", "failure");
    });

    // a push while the previous commit's jobs run cancels them (spec.cancelSuperseded, the default)
    String slow = gitea.commitAndPush(repo, work.resolve("wt"), "main", Map.of("flake.nix", flake("sleep 300")),
        "slow");
    Map<String, NixekJob> slowJobs = awaitJobs(slow, 2, Duration.ofSeconds(180));
    String slowHello = slowJobs.keySet().stream().filter(n -> n.endsWith("-hello")).findFirst().orElseThrow();
    await().atMost(Duration.ofSeconds(180)).until(() -> {
      NixekJob j = client.resources(NixekJob.class).inNamespace(ns).withName(slowHello).get();
      return j.getStatus() != null && j.getStatus().steps != null && j.getStatus().steps.stream()
          .anyMatch(st -> st.state == dev.nixek.ci.api.v1alpha1.NixekStepStatus.State.Running);
    });
    String third = gitea.commitAndPush(repo, work.resolve("wt"), "main", Map.of("flake.nix", flake("echo third")),
        "third");
    awaitJobs(third, 2, Duration.ofSeconds(180));
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
        client.resources(NixekJob.class).inNamespace(ns).withName(slowHello).get().getSpec().cancel).isTrue());
    NixekJob cancelled = awaitTerminal(slowJobs, "hello");
    assertThat(succeeded(cancelled).getStatus()).isEqualTo("False");

    // webhook off, polling on: the next commit is found without a delivery
    String delivery = get().getStatus().webhook.deliveryId;
    gitea.setWebhookActive(repo, hook, false);
    client.resources(NixekRepository.class).inNamespace(ns).withName("hello").patch(
        PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"pollInterval\":\"10s\"}}");
    String second = gitea.commitAndPush(repo, work.resolve("wt"), "main",
        Map.of("flake.nix", flake("echo polled")), "polled");
    awaitJobs(second, 2, Duration.ofSeconds(120));
    assertThat(get().getStatus().webhook.deliveryId).isEqualTo(delivery);

    // the forge token is in no status and no job
    String everything = client.resources(NixekRepository.class).inNamespace(ns).list().getItems().toString()
        + client.resources(NixekJob.class).inNamespace(ns).list().getItems().toString();
    assertThat(everything).doesNotContain(gitea.token()).doesNotContain(HOOK_SECRET);
    String events = client.v1().events().inNamespace(ns).list().getItems().toString();
    assertThat(events).doesNotContain(gitea.token()).doesNotContain(HOOK_SECRET);
    assertThat(stack.reportApiLogs()).doesNotContain(gitea.token()).doesNotContain(HOOK_SECRET);
  }

  private NixekRepository get() {
    return client.resources(NixekRepository.class).inNamespace(ns).withName("hello").get();
  }

  private Map<String, NixekJob> awaitJobs(String commit, int count, Duration timeout) {
    await().atMost(timeout).until(() -> jobsOf(commit).size() == count);
    return jobsOf(commit).stream().collect(Collectors.toMap(j -> j.getMetadata().getName(), j -> j));
  }

  private NixekJob awaitTerminal(Map<String, NixekJob> jobs, String job) {
    String name = jobs.keySet().stream().filter(n -> n.endsWith("-" + job)).findFirst().orElseThrow(
        () -> new AssertionError("no job " + job + " among " + jobs.keySet()));
    return awaitTerminal(name);
  }
}
