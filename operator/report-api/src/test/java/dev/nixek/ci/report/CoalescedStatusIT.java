package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.protocol.OutputChunk;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestNamespace;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Coalesced status writes on a real API server (docs/logs.md#ingest-and-coalesced-status): a step printing at full
 * speed for 20 s costs at most 20 status writes plus its two state changes, counted through a watch on the job;
 * every acknowledged byte is in the store and the final status is exact.
 */
@ExtendWith(KubeApiServerExtension.class)
class CoalescedStatusIT {
  private static final int MB = 1024 * 1024;

  @BeforeAll
  static void crds(KubeApiServer server) throws Exception {
    Path home = Path.of("").toAbsolutePath();
    while (!Files.isDirectory(home.resolve("charts/nixek-ci/crds"))) {
      home = home.getParent();
    }
    try (Stream<Path> crds = Files.list(home.resolve("charts/nixek-ci/crds"))) {
      server.applyServerSide(crds.sorted().toArray(Path[]::new)).orThrow();
    }
    server.kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/nixekjobs.ci.nixek.dev").orThrow();
  }

  /** A job with one step and a step token record, as the operator makes it; returns the token. */
  private static String job(KubernetesClient client, String ns, String name, String[] uidHolder) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).build());
    NixekJobSpec spec = new NixekJobSpec();
    spec.machineImageName = "img";
    NixekJobStep step = new NixekJobStep();
    step.name = "build";
    step.run = "yes";
    spec.steps = List.of(step);
    job.setSpec(spec);
    NixekJob created = client.resource(job).create();
    String token = new JobTokens(JobTokens.newKey()).tokenFor(created.getMetadata().getUid(), 1);
    NixekJobStatus status = new NixekJobStatus();
    status.stepTokenSha256 = JobTokens.sha256Hex(token);
    created.setStatus(status);
    client.resource(created).updateStatus();
    uidHolder[0] = created.getMetadata().getUid();
    return token;
  }

  private static HttpResponse<String> post(HttpClient http, int port, String token, String path, String body)
      throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Content-Type", "application/json").header("Authorization", "Bearer " + token)
        .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** An agent printing chunks of {@code size} bytes as fast as it is answered for {@code millis}; returns the bytes. */
  private static long agent(HttpClient http, int port, String ns, String name, String token, long millis, int size)
      throws Exception {
    assertThat(post(http, port, token, ReportPaths.step(ns, name, 0, ReportPaths.STARTED),
        Harness.startedJson("build", Instant.now().toString())).statusCode()).isEqualTo(200);
    byte[] data = new byte[size];
    Random r = new Random(name.hashCode());
    long offset = 0;
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    for (long seq = 0; System.nanoTime() < end; seq++) {
      r.nextBytes(data);
      HttpResponse<String> a = post(http, port, token, ReportPaths.step(ns, name, 0, ReportPaths.OUTPUT),
          Harness.chunkJson(seq, offset, data));
      assertThat(a.statusCode()).as(a.body()).isEqualTo(200);
      offset += data.length;
    }
    HttpResponse<String> f = post(http, port, token, ReportPaths.step(ns, name, 0, ReportPaths.FINISHED),
        Harness.finishedJson(0, Instant.now().toString(), offset));
    assertThat(f.statusCode()).as(f.body()).isEqualTo(200);
    return offset;
  }

  private static ReportApi api(Vertx vertx, KubernetesClient client, String ns, MemoryLogStore logs)
      throws Exception {
    ReportApiConfig config = ReportApiConfig.fromEnv(Map.of("NIXEK_REPORT_BIND", "127.0.0.1", "NIXEK_REPORT_PORT", "0",
        "NIXEK_WATCH_NAMESPACES", ns, "NIXEK_REPORT_JOB_REPORTS_PER_SECOND", "10000"));
    ReportApi api = new ReportApi(vertx, client, config, logs);
    api.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return api;
  }

  private static void awaitRecord(ReportApi api, String token) {
    await().atMost(Duration.ofSeconds(30)).until(() ->
        !api.tokenRecords().find(JobTokens.Purpose.STEPS, JobTokens.sha256Hex(token)).isEmpty());
  }

  @Test
  void aStepPrintingForTwentySecondsCostsAtMostTwentyStatusWritesPlusItsStateChanges(KubeApiServer server,
      TestNamespace namespace) throws Exception {
    KubernetesClient client = server.client();
    String ns = namespace.name();
    MemoryLogStore logs = new MemoryLogStore();
    Vertx vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(16));
    ReportApi api = api(vertx, client, ns, logs);
    String[] uid = new String[1];
    String token = job(client, ns, "noisy", uid);
    awaitRecord(api, token);

    AtomicInteger writes = new AtomicInteger();
    Map<Long, Boolean> seen = new ConcurrentHashMap<>();
    try (Watch watch = client.resources(NixekJob.class).inNamespace(ns).withName("noisy")
        .watch(new Watcher<NixekJob>() {
          @Override
          public void eventReceived(Action action, NixekJob job) {
            if (action == Action.MODIFIED && seen.putIfAbsent(Long.parseLong(job.getMetadata().getResourceVersion()),
                true) == null) {
              writes.incrementAndGet();
            }
          }

          @Override
          public void onClose(WatcherException cause) {}
        })) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      long t0 = System.nanoTime();
      long bytes = agent(http, api.boundPort(), ns, "noisy", token, 20_000, 4096);
      double seconds = (System.nanoTime() - t0) / 1e9;
      Thread.sleep(3000); // any late flush would show now
      NixekStepStatus s = client.resources(NixekJob.class).inNamespace(ns).withName("noisy").get()
          .getStatus().steps.get(0);
      System.out.printf("CoalescedStatusIT: one step, 4 KiB chunks, %.1f MB in %.1f s: %.1f MB/s, %.0f chunks/s; %d "
          + "status writes"
          + " (%.2f/s)%n", bytes / (double) MB, seconds, bytes / (double) MB / seconds, s.outputChunks / seconds,
          writes.get(), writes.get() / seconds);
      assertThat(s.state).isEqualTo(State.Succeeded);
      assertThat(s.outputBytes).isEqualTo(bytes);
      assertThat(logs.state(new StepLog(ns, "noisy", uid[0], 0)).bytes()).isEqualTo(bytes);
      // started + finished + at most one flush a second; and the flusher did write while it ran
      assertThat(writes.get()).isLessThanOrEqualTo(20 + 2).isGreaterThanOrEqualTo(10);
    } finally {
      api.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** A measurement for docs/logs.md, with its one check: nothing acknowledged is missing from store or status. */
  @Test
  void twentyNoisyStepsAtOnceLoseNothing(KubeApiServer server, TestNamespace namespace) throws Exception {
    KubernetesClient client = server.client();
    String ns = namespace.name();
    MemoryLogStore logs = new MemoryLogStore();
    Vertx vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(16));
    ReportApi api = api(vertx, client, ns, logs);
    ExecutorService pool = Executors.newFixedThreadPool(20);
    try {
      List<String> tokens = new ArrayList<>();
      List<String> uids = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        String[] uid = new String[1];
        tokens.add(job(client, ns, "n" + i, uid));
        uids.add(uid[0]);
      }
      for (String t : tokens) {
        awaitRecord(api, t);
      }
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      long t0 = System.nanoTime();
      List<Future<Long>> agents = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        int n = i;
        agents.add(pool.submit(() -> agent(http, api.boundPort(), ns, "n" + n, tokens.get(n), 5_000, OutputChunk.MAX_BYTES)));
      }
      long total = 0;
      for (int i = 0; i < 20; i++) {
        long bytes = agents.get(i).get(120, TimeUnit.SECONDS);
        total += bytes;
        assertThat(logs.state(new StepLog(ns, "n" + i, uids.get(i), 0)).bytes()).isEqualTo(bytes);
        assertThat(client.resources(NixekJob.class).inNamespace(ns).withName("n" + i).get().getStatus().steps.get(0)
            .outputBytes).isEqualTo(bytes);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf("CoalescedStatusIT: 20 steps at once, %.1f MB in %.1f s: %.1f MB/s, %.0f chunks/s%n",
          total / (double) MB, seconds, total / (double) MB / seconds, total / (double) OutputChunk.MAX_BYTES / seconds);
    } finally {
      pool.shutdownNow();
      api.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
