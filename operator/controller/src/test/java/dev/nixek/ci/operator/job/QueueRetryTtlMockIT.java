package dev.nixek.ci.operator.job;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobAttempt;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.image.ContentAddressedImageResolver;
import dev.nixek.ci.operator.image.InlineImageCollector;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import dev.nixek.ci.operator.testing.MockJobOperator;
import dev.nixek.ci.operator.testing.Reports;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Queues, retries and TTL with the job reconciler as in production on the fabric8 mock API server (SSA off) and the
 * fake machine provider; the report API's writes are played by {@link Reports}.
 */
@EnableKubernetesMockClient(crud = true)
class QueueRetryTtlMockIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  private static final String NS = "ci";
  private final FakeMachineProvider provider = new FakeMachineProvider();
  private MockJobOperator operator;
  private Reports reports;

  private void start(Map<String, String> env) {
    operator = MockJobOperator.start(client, provider, NS, env);
    reports = new Reports(client);
  }

  @AfterEach
  void stop() {
    if (operator != null) {
      operator.close();
    }
    client.resources(NixekJob.class).inAnyNamespace().delete();
    client.resources(NixekMachineImage.class).inAnyNamespace().delete();
  }

  @Test
  void limitTwoApplyFiveNeverMoreThanTwoMachinesAndAllSucceedInCreationOrder() throws Exception {
    start(Map.of("NIXEK_MAX_RUNNING_JOBS_PER_NAMESPACE", "2"));
    AtomicInteger most = new AtomicInteger();
    AtomicBoolean sampling = new AtomicBoolean(true);
    Thread sampler = new Thread(() -> {
      while (sampling.get()) {
        most.accumulateAndGet(provider.running(), Math::max);
        Thread.onSpinWait();
      }
    });
    sampler.start();
    try {
      for (int i = 1; i <= 5; i++) {
        create(job(NS, "q" + i, run("a", "true")));
      }
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
        assertThat(reason("q3")).isEqualTo("Queued");
        assertThat(reason("q4")).isEqualTo("Queued");
        assertThat(reason("q5")).isEqualTo("Queued");
        assertThat(succeeded(get("q5")).getMessage())
            .isEqualTo("position 3 of 3 in namespace ci (at most 2 running at once)");
      });
      // the two admitted jobs hold their slots from the recorded launch token; the launch itself may still be on
      // its way
      // within the queue's own recheck (JobQueue.RECHECK) and the image wait's backstop: an admitted job was seen
      // waiting that long here (docs/operations.md#queues-retries-and-ttl, known issue)
      await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(provider.launched())
          .as("launched; q2's status: %s", io.fabric8.kubernetes.client.utils.Serialization.asJson(get("q2").getStatus()))
          .hasSize(2));
      // finish the running jobs one at a time: each end lets exactly the next queued job start
      Set<String> done = new HashSet<>();
      while (done.size() < 5) {
        // a freed slot wakes the queued at once, well within the queue's 30 s recheck
        String next = await().atMost(Duration.ofSeconds(20)).until(() -> runningJob(done), n -> n != null);
        reports.step(NS, next, 0, 0);
        awaitReason(next, "Succeeded");
        done.add(next);
        // one slot at a time: the freed slot's launch lands before another slot frees, so the launch order is the
        // admission order (two slots freed at once would launch their two jobs in a race)
        int launches = Math.min(5, 2 + done.size());
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(provider.launched()).hasSize(launches));
      }
    } finally {
      sampling.set(false);
      sampler.join();
    }
    assertThat(most.get()).as("machines running at once").isEqualTo(2);
    List<String> order = provider.launched().stream().map(m -> provider.request(m).name()).toList();
    assertThat(order.subList(0, 2)).containsExactlyInAnyOrder("q1", "q2");
    assertThat(order.subList(2, 5)).containsExactly("q3", "q4", "q5");
  }

  @Test
  void aLostInstanceWithOneRetryIsRunAgainFromTheFirstStepAndSucceeds() {
    start(Map.of());
    NixekJob j = job(NS, "flaky", run("a", "true"), run("b", "true"));
    j.getSpec().retries = 1;
    NixekJob created = create(j);
    awaitReason("flaky", "Running");
    reports.step(NS, "flaky", 0, 0);
    String first = provider.launched().get(0);
    String firstToken = provider.request(first).agentConfig().token();
    provider.kill(first);

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      NixekJob now = get("flaky");
      assertThat(now.getStatus().attempt).isEqualTo(2);
      assertThat(now.getStatus().instanceId).isNotNull().isNotEqualTo(first);
      assertThat(reason("flaky")).isEqualTo("Running");
    });
    NixekJob second = get("flaky");
    assertThat(second.getStatus().steps).as("the old attempt's steps are gone").isNullOrEmpty();
    assertThat(second.getStatus().currentStep).isEqualTo("0/2");
    assertThat(second.getStatus().launchToken).isEqualTo("nixek-" + created.getMetadata().getUid() + "-2");
    assertThat(second.getStatus().attempts).hasSize(1);
    NixekJobAttempt attempt1 = second.getStatus().attempts.get(0);
    assertThat(attempt1.attempt).isEqualTo(1);
    assertThat(attempt1.reason).isEqualTo("InstanceLost");
    assertThat(attempt1.instanceId).isEqualTo(first);
    assertThat(attempt1.message).contains("killed by the test");
    assertThat(attempt1.finishTime).isNotNull();
    // a new step token: the old attempt's no longer matches the job's record
    String secondToken = provider.request(second.getStatus().instanceId).agentConfig().token();
    assertThat(JobTokens.matches(secondToken, second.getStatus().stepTokenSha256)).isTrue();
    assertThat(JobTokens.matches(firstToken, second.getStatus().stepTokenSha256)).isFalse();

    reports.step(NS, "flaky", 0, 0);
    reports.step(NS, "flaky", 1, 0);
    NixekJob done = awaitReason("flaky", "Succeeded");
    assertThat(done.getStatus().attempt).isEqualTo(2);
    assertThat(done.getStatus().attempts).hasSize(1);
    assertThat(provider.launched()).hasSize(2);
    assertThat(eventReasons("flaky")).contains("InstanceLost", "Relaunching", "Succeeded");
  }

  @Test
  void aFailingStepIsNeverRetried() {
    start(Map.of());
    NixekJob j = job(NS, "fails", run("a", "exit 1"));
    j.getSpec().retries = 2;
    create(j);
    awaitReason("fails", "Running");
    reports.step(NS, "fails", 0, 1);
    NixekJob done = awaitReason("fails", "StepFailed");
    assertThat(done.getStatus().attempt).isEqualTo(1);
    assertThat(done.getStatus().attempts).isNull();
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4))
        .untilAsserted(() -> assertThat(provider.launched()).hasSize(1));
  }

  @Test
  void anAgentThatNeverReportsIsRetriedUntilTheRetriesAreUsed() {
    start(Map.of("NIXEK_BOOT_TIMEOUT_SECONDS", "2"));
    NixekJob j = job(NS, "silent", run("a", "true"));
    j.getSpec().retries = 1;
    create(j);
    NixekJob done = awaitReason("silent", "AgentNeverReported", Duration.ofSeconds(30));
    assertThat(done.getStatus().attempt).isEqualTo(2);
    assertThat(done.getStatus().attempts).extracting(a -> a.reason).containsExactly("AgentNeverReported");
    assertThat(provider.launched()).hasSize(2);
    await().untilAsserted(() -> assertThat(provider.terminated()).containsExactlyInAnyOrderElementsOf(
        provider.launched()));
  }

  @Test
  void aFinishedJobWithATtlGoesAndThenItsUnusedImage() {
    start(Map.of());
    NixekJob j = job(NS, "short-lived", run("a", "true"));
    j.getSpec().machine = "{ pkgs, ... }: { networking.hostName = \"short-lived\"; }";
    j.getSpec().ttlSecondsAfterFinished = 5L;
    NixekJob created = create(j);
    NixekJob kept = job(NS, "kept", run("a", "true"));
    create(kept);
    OperatorConfig config = OperatorConfig.fromEnv(Map.of());
    String unused = inlineImage(created, config);
    String used = inlineImage(kept, config);

    awaitReason("short-lived", "Running");
    reports.step(NS, "short-lived", 0, 0);
    NixekJob done = awaitReason("short-lived", "Succeeded");
    long finishedAt = System.nanoTime();
    assertThat(done.getStatus().stepTokenSha256).isNotNull();
    await().atMost(Duration.ofSeconds(20)).until(() -> get("short-lived") == null);
    assertThat(Duration.ofNanos(System.nanoTime() - finishedAt)).isGreaterThan(Duration.ofSeconds(3));
    // with the job go its token record (in its status) and whatever it owned; nothing is left labelled with it
    assertThat(client.secrets().inNamespace(NS).withLabel(Labels.JOB_UID, created.getMetadata().getUid()).list()
        .getItems()).isEmpty();
    assertThat(get("kept")).as("a job without a TTL is kept").isNotNull();

    // the inline-image collector: marks the image no job uses, deletes it after the retention; the used one stays
    new InlineImageCollector(client, config, Clock.systemUTC()).collect();
    List<String> deleted = new InlineImageCollector(client, config,
        Clock.offset(Clock.systemUTC(), config.images().inlineRetention().plusSeconds(1))).collect();
    assertThat(deleted).containsExactly(NS + "/" + unused);
    assertThat(client.resources(NixekMachineImage.class).inNamespace(NS).withName(used).get()).isNotNull();
  }

  @Test
  void theOperatorDefaultTtlAppliesToJobsThatSetNone() {
    start(Map.of("NIXEK_JOB_TTL_SECONDS_AFTER_FINISHED", "1"));
    create(job(NS, "defaulted", run("a", "true")));
    NixekJob j = job(NS, "own-ttl", run("a", "true"));
    j.getSpec().ttlSecondsAfterFinished = 3600L;
    create(j);
    awaitReason("defaulted", "Running");
    awaitReason("own-ttl", "Running");
    reports.step(NS, "defaulted", 0, 0);
    reports.step(NS, "own-ttl", 0, 0);
    awaitReason("own-ttl", "Succeeded");
    await().atMost(Duration.ofSeconds(20)).until(() -> get("defaulted") == null);
    assertThat(get("own-ttl")).isNotNull();
  }

  /** An inline-machine image for {@code job}, as ContentAddressedImageResolver would have made it. */
  private String inlineImage(NixekJob job, OperatorConfig config) {
    String name = ContentAddressedImageResolver.inlineImageName(job, config.images()).orElseThrow();
    NixekMachineImage image = new NixekMachineImage();
    image.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name)
        .addToLabels(Labels.COMPONENT, ContentAddressedImageResolver.COMPONENT).build());
    NixekMachineImageSpec spec = new NixekMachineImageSpec();
    spec.machine = job.getSpec().machine;
    spec.system = "x86_64-linux";
    image.setSpec(spec);
    client.resources(NixekMachineImage.class).inNamespace(NS).resource(image).create();
    return name;
  }

  /** The oldest job now Running that is not done, if any. */
  private String runningJob(Set<String> done) {
    List<NixekJob> jobs = new ArrayList<>(client.resources(NixekJob.class).inNamespace(NS).list().getItems());
    jobs.sort(QueueOrder.CREATION);
    return jobs.stream().filter(x -> !done.contains(x.getMetadata().getName()))
        .filter(x -> x.getStatus() != null && x.getStatus().instanceId != null)
        .map(x -> x.getMetadata().getName()).findFirst().orElse(null);
  }

  private NixekJob create(NixekJob j) {
    return client.resources(NixekJob.class).inNamespace(NS).resource(j).create();
  }

  private NixekJob get(String name) {
    return client.resources(NixekJob.class).inNamespace(NS).withName(name).get();
  }

  private String reason(String name) {
    NixekJob j = get(name);
    Condition c = j == null || j.getStatus() == null ? null : succeeded(j);
    return c == null ? null : c.getReason();
  }

  private NixekJob awaitReason(String name, String reason) {
    return awaitReason(name, reason, Duration.ofSeconds(20));
  }

  private NixekJob awaitReason(String name, String reason, Duration within) {
    await().atMost(within).untilAsserted(() -> assertThat(reason(name)).as("reason of %s", name).isEqualTo(reason));
    return get(name);
  }

  private static Condition succeeded(NixekJob j) {
    return Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED).orElse(null);
  }

  private List<String> eventReasons(String name) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName())).map(Event::getReason).toList();
  }
}
