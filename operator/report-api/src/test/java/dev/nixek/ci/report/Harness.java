package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.OutputChunk;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A report API on a random port in front of the fabric8 mock apiserver (CRUD mode, plain HTTP), with helpers to
 * create jobs and token records the way the operator does and to send reports the way the agent does. Every token it
 * mints is remembered, so a test can prove none of them reached the logs.
 */
final class Harness implements AutoCloseable {
  static final String NS = "ci";
  static final String OTHER_NS = "team-b";

  final KubernetesMockServer kube;
  final KubernetesClient client;
  final Vertx vertx;
  ReportApi api;
  int port;
  private final ReportApiConfig config;
  final HttpClient http;
  final Set<String> tokensSeen = ConcurrentHashMap.newKeySet();
  final MemoryLogStore logs;
  private final JobTokens tokens = new JobTokens(JobTokens.newKey());
  private final List<String> watched;

  /** A created job and its token. */
  record Job(String namespace, String name, String uid, String token) {
    String path(int index, String what) {
      return ReportPaths.step(namespace, name, index, what);
    }
  }

  private final dev.nixek.ci.common.logs.ArtifactStore artifacts;
  private dev.nixek.ci.common.logs.ArtifactOptions artifactOptions;

  Harness(Map<String, String> env) throws Exception {
    this(env, new MemoryLogStore());
  }

  /** A report API storing output in {@code logs}: give two harnesses one store to make them replicas. */
  Harness(Map<String, String> env, MemoryLogStore logs) throws Exception {
    this(env, logs, null);
  }

  /** With step artifacts in {@code artifacts} (null: none, the artifact routes answer 503). */
  Harness(Map<String, String> env, MemoryLogStore logs, dev.nixek.ci.common.logs.ArtifactStore artifacts)
      throws Exception {
    this(env, logs, artifacts, null, java.util.Optional.empty());
  }

  /** With the seal key {@code sealer} (null: read from the API server) and the binary caches' {@code cacheView}. */
  Harness(Map<String, String> env, MemoryLogStore logs, dev.nixek.ci.common.logs.ArtifactStore artifacts,
      dev.nixek.ci.common.seal.Sealer sealer, java.util.Optional<dev.nixek.ci.common.cache.CacheReadView> cacheView)
      throws Exception {
    this.logs = logs;
    this.artifacts = artifacts;
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    kube = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    kube.init();
    // no client-side retries: a test of an unreachable API must see the failure at once
    client = kube.createClient(b -> b.editOrNewConfig().withRequestRetryBackoffLimit(0).endConfig());
    // status-subresource semantics (PATCH /status touches only status) hold only once the CRD exists in the mock
    try (InputStream crd = NixekJob.class.getResourceAsStream("/META-INF/fabric8/nixekjobs.ci.nixek.dev-v1.yml")) {
      client.apiextensions().v1().customResourceDefinitions().resource(
          Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
    Map<String, String> all = new LinkedHashMap<>();
    all.put("NIXEK_REPORT_BIND", "127.0.0.1");
    all.put("NIXEK_REPORT_PORT", "0");
    // many tests compare the job before and after a refused report: a status flush in between (output acknowledged
    // before) would be a change they did not make. StatusFlusherTest and CoalescedStatusIT test the flusher.
    all.put("NIXEK_REPORT_STATUS_INTERVAL_MILLIS", "60000");
    all.putAll(env);
    config = ReportApiConfig.fromEnv(all);
    watched = config.watchNamespaces();
    vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(config.workerThreads()));
    artifactOptions = dev.nixek.ci.common.logs.ArtifactOptions.fromEnv(all);
    api = new ReportApi(vertx, client, config, logs, WebhookConfig.defaults(),
        sealer == null ? null : SealKeys.of(sealer), artifacts, artifactOptions, cacheView);
    HttpServer server = api.start().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    port = server.actualPort();
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** Another report API instance on the same API server and log store: a replica. Stopped by the caller. */
  ReportApi replica() throws Exception {
    ReportApi other = new ReportApi(vertx, client, config, logs, artifacts, artifactOptions);
    other.start().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!other.tokenRecords().synced() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    return other;
  }

  /** Stops the report API (as a crash would: nothing in its memory survives) and starts a new one on a new port. */
  void restartApi() throws Exception {
    await(api.stop());
    api = replica();
    port = api.boundPort();
  }

  @Override
  public void close() throws ExecutionException, TimeoutException {
    // one after the other from this thread: a continuation of the server's close running on an event loop would wait
    // for vertx.close(), which waits for that event loop
    await(api.stop());
    await(vertx.close());
    client.close();
    stopKubernetes();
  }

  private static void await(io.vertx.core.Future<Void> f) throws ExecutionException, TimeoutException {
    try {
      f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private boolean kubeStopped;

  /** Takes the Kubernetes API away (the report API keeps running). */
  synchronized void stopKubernetes() {
    if (!kubeStopped) {
      kubeStopped = true;
      kube.destroy();
    }
  }

  // --- Kubernetes objects, as the operator makes them ---

  Job createJob(String namespace, String name, String... steps) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    NixekJobSpec spec = new NixekJobSpec();
    spec.machineImageName = "img";
    spec.steps = new ArrayList<>();
    for (String s : steps) {
      NixekJobStep st = new NixekJobStep();
      st.name = s;
      st.run = "echo " + s;
      spec.steps.add(st);
    }
    job.setSpec(spec);
    NixekJob created = client.resource(job).create();
    // what the operator writes before the agent reports: fields the report API must never touch
    NixekJobStatus status = new NixekJobStatus();
    status.observedGeneration = 1L;
    status.conditions = Conditions.with(null, Conditions.SUCCEEDED, Conditions.UNKNOWN, "Running", "the job runs", 1L,
        Instant.parse("2026-11-25T10:00:00Z"));
    status.instanceId = "i-0123456789abcdef0";
    status.attempt = 1;
    status.startTime = "2026-11-25T10:00:00Z";
    created.setStatus(status);
    created = client.resource(created).updateStatus();
    String uid = created.getMetadata().getUid();
    String token = tokens.tokenFor(uid, 1);
    tokensSeen.add(token);
    recordToken(namespace, name, token, JobTokens.Purpose.STEPS);
    return new Job(namespace, name, uid, token);
  }

  /**
   * A job written in Nix ({@code spec.nix}), as the operator has it while its evaluation pod runs: a Succeeded
   * condition Evaluating, and the evaluation token's record. The returned token is the evaluation token.
   */
  Job createNixJob(String namespace, String name) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    NixekJobSpec spec = new NixekJobSpec();
    spec.nix = "{ steps = [ { name = \"build\"; run = \"make\"; } ]; }";
    job.setSpec(spec);
    NixekJob created = client.resource(job).create();
    NixekJobStatus status = new NixekJobStatus();
    status.observedGeneration = 1L;
    status.conditions = Conditions.with(null, Conditions.SUCCEEDED, Conditions.UNKNOWN, "Evaluating", "evaluating", 1L,
        Instant.parse("2026-11-25T10:00:00Z"));
    created.setStatus(status);
    created = client.resource(created).updateStatus();
    String uid = created.getMetadata().getUid();
    String token = tokens.evaluationTokenFor(uid);
    tokensSeen.add(token);
    recordToken(namespace, name, token, JobTokens.Purpose.EVALUATION);
    return new Job(namespace, name, uid, token);
  }

  /** The step token of attempt 1 of job {@code j} (recorded, as the operator does before launching). */
  Job withStepToken(Job j) {
    String token = tokens.tokenFor(j.uid(), 1);
    tokensSeen.add(token);
    recordToken(j.namespace(), j.name(), token, JobTokens.Purpose.STEPS);
    return new Job(j.namespace(), j.name(), j.uid(), token);
  }

  /**
   * Records {@code token} as the job's token of {@code purpose}, as the operator does: its SHA-256 in the job's status
   * ({@code stepTokenSha256} or {@code evaluationTokenSha256}), replacing what was there; returns once the report
   * API's watch has it.
   */
  void recordToken(String namespace, String jobName, String token, JobTokens.Purpose purpose) {
    NixekJob job = client.resources(NixekJob.class).inNamespace(namespace).withName(jobName).get();
    if (job.getStatus() == null) {
      job.setStatus(new NixekJobStatus());
    }
    String sha = JobTokens.sha256Hex(token);
    if (purpose == JobTokens.Purpose.STEPS) {
      job.getStatus().stepTokenSha256 = sha;
    } else {
      job.getStatus().evaluationTokenSha256 = sha;
    }
    client.resource(job).updateStatus();
    if (watched.isEmpty() || watched.contains(namespace)) {
      awaitRecord(purpose, sha, true);
    }
  }

  /** Waits until the report API's watched records have ({@code present}) or lack the token hash. */
  void awaitRecord(JobTokens.Purpose purpose, String sha, boolean present) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (api.tokenRecords().find(purpose, sha).isEmpty() == present) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the report API's watch never " + (present ? "saw" : "dropped") + " a token record");
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** A well-formed token that no record knows. */
  String unknownToken() {
    String t = tokens.tokenFor("no-such-uid-" + System.nanoTime(), 1);
    tokensSeen.add(t);
    return t;
  }

  /** A well-formed evaluation token that no record knows. */
  String unknownEvaluationToken() {
    String t = tokens.evaluationTokenFor("no-such-uid-" + System.nanoTime());
    tokensSeen.add(t);
    return t;
  }

  NixekJob job(Job j) {
    return client.resources(NixekJob.class).inNamespace(j.namespace()).withName(j.name()).get();
  }

  /** The whole job as JSON: status, metadata (resourceVersion included) and spec. */
  String snapshot(Job j) {
    NixekJob job = job(j);
    return job == null ? "<absent>" : Serialization.asJson(job);
  }

  /** The operator ends the job (writes its Succeeded condition). */
  void finishJob(Job j, String status, String reason) {
    NixekJob job = job(j);
    job.getStatus().conditions = Conditions.with(job.getStatus().conditions, Conditions.SUCCEEDED, status, reason, "",
        1L, Instant.parse("2026-11-25T10:05:00Z"));
    job.getStatus().completionTime = "2026-11-25T10:05:00Z";
    client.resource(job).updateStatus();
    // output is refused once the report API's watch has seen the end (no read per chunk)
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    TokenRecord record = new TokenRecord(j.namespace(), j.name(), j.uid(), "", "", JobTokens.Purpose.STEPS);
    while (!api.tokenRecords().ended(record) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  // --- the agent's side ---

  static String startedJson(String name, String time) {
    return json(new StepStarted(name, time));
  }

  static String chunkJson(long seq, long offset, byte[] data) {
    return json(new OutputChunk(seq, offset, Base64.getEncoder().encodeToString(data)));
  }

  static String finishedJson(int exitCode, String time, long outputBytes) {
    return json(new StepFinished(exitCode, time, outputBytes, false));
  }

  static String json(Object o) {
    try {
      return Json.mapper().writeValueAsString(o);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(20));
  }

  HttpResponse<String> post(String token, String path, String body) {
    return send(postRequest(token, path, BodyPublishers.ofString(body)).build());
  }

  HttpRequest.Builder postRequest(String token, String path, BodyPublisher body) {
    HttpRequest.Builder b = request(path).header("Content-Type", "application/json").POST(body);
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  CompletableFuture<HttpResponse<String>> postAsync(String token, String path, String body) {
    return http.sendAsync(postRequest(token, path, BodyPublishers.ofString(body)).build(), BodyHandlers.ofString());
  }

  HttpResponse<String> send(HttpRequest request) {
    try {
      return http.send(request, BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("request failed: " + request, e);
    }
  }

  /** Posts and asserts 200 with {@code result}. */
  void ok(Job j, String path, String body, String result) {
    HttpResponse<String> r = post(j.token(), path, body);
    assertThat(r.statusCode()).as("%s -> %s", path, r.body()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"result\":\"" + result + "\"}");
  }

  /** The agent's whole report sequence for one step. */
  void runStep(Job j, int index, String name, List<byte[]> chunks, int exitCode) {
    ok(j, j.path(index, "started"), startedJson(name, "2026-11-25T10:01:0" + index + "Z"), "applied");
    long offset = 0;
    for (int i = 0; i < chunks.size(); i++) {
      ok(j, j.path(index, "output"), chunkJson(i, offset, chunks.get(i)), "applied");
      offset += chunks.get(i).length;
    }
    ok(j, j.path(index, "finished"), finishedJson(exitCode, "2026-11-25T10:02:0" + index + "Z", offset), "applied");
  }
}
