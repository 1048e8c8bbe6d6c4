package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobLogs;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.cli.LogClient;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.protocol.LogPaths;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestNamespace;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The logs endpoint on a real kube-apiserver: the report API authenticates readers with TokenReview and authorises
 * them with SubjectAccessReview under its own ServiceAccount (bound to system:auth-delegator, as the chart does), so
 * the cluster's RBAC decides who reads which job. Readers are ServiceAccounts with real tokens; the log store is in
 * memory (the stores have their own tests); the kubectl plugin's client follows.
 */
@ExtendWith(KubeApiServerExtension.class)
class LogsEndpointIT {
  static KubeApiServer server;
  static KubernetesClient admin;
  static String ns;
  private static String otherNs;
  private static Vertx vertx;
  static ReportApi api;
  static MemoryLogStore store;
  static String base;
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start(KubeApiServer s, TestNamespace namespace) throws Exception {
    server = s;
    admin = s.client();
    ns = namespace.name();
    otherNs = s.createUniqueNamespace("logs-other");
    try (InputStream crd = NixekJob.class.getResourceAsStream("/META-INF/fabric8/nixekjobs.ci.nixek.dev-v1.yml")) {
      admin.apiextensions().v1().customResourceDefinitions().resource(
          // the same CRD other tests of this API server applied with kubectl: take its fields over
          Serialization.unmarshal(crd, CustomResourceDefinition.class)).forceConflicts().serverSideApply();
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> admin.apiextensions().v1().customResourceDefinitions()
        .withName("nixekjobs.ci.nixek.dev").get().getStatus().getConditions().stream()
        .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus())));

    // the report API's ServiceAccount with the chart's grants: its ClusterRole bound in the watched namespaces, and
    // system:auth-delegator cluster-wide for the reviews
    String sa = "report-api";
    admin.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(ns + "-report-api")
        .endMetadata()
        .addToRules(rule("nixekjobs", "get", "list", "watch"), rule("nixekjobs/status", "patch")).build())
        .serverSideApply();
    for (String n : List.of(ns, otherNs)) {
      bind(n, ns + "-report-api", "ClusterRole", ns, sa);
    }
    admin.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata()
        .withName(ns + "-report-api-auth-delegator").endMetadata()
        .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "system:auth-delegator")
        .addNewSubject().withKind("ServiceAccount").withName(sa).withNamespace(ns).endSubject().build())
        .serverSideApply();
    // readers: "reader" may get nixekjobs and their logs in ns only; "viewer" may get nixekjobs but not their logs;
    // "stranger" nothing
    admin.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(ns + "-log-reader")
        .endMetadata().addToRules(rule("nixekjobs", "get"), rule("nixekjobs/log", "get")).build()).serverSideApply();
    admin.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(ns + "-job-viewer")
        .endMetadata().addToRules(rule("nixekjobs", "get", "list")).build()).serverSideApply();
    bind(ns, ns + "-log-reader", "ClusterRole", ns, "reader");
    bind(ns, ns + "-job-viewer", "ClusterRole", ns, "viewer");
    server.serviceAccountToken(ns, "stranger");

    store = new MemoryLogStore();
    vertx = Vertx.vertx();
    ReportApiConfig config = ReportApiConfig.fromEnv(Map.of("NIXEK_REPORT_BIND", "127.0.0.1", "NIXEK_REPORT_PORT",
        "0", "NIXEK_WATCH_NAMESPACES", ns + "," + otherNs));
    api = new ReportApi(vertx, server.clientFor(ns, sa), config, store);
    int port = api.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).actualPort();
    base = "http://127.0.0.1:" + port;
  }

  @AfterAll
  static void stop() throws Exception {
    if (api != null) {
      api.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static io.fabric8.kubernetes.api.model.rbac.PolicyRule rule(String resource, String... verbs) {
    return new PolicyRuleBuilder().withApiGroups("ci.nixek.dev").withResources(resource).withVerbs(verbs).build();
  }

  private static void bind(String namespace, String role, String kind, String saNamespace, String sa) {
    server.serviceAccountToken(saNamespace, sa);
    admin.rbac().roleBindings().inNamespace(namespace).resource(new RoleBindingBuilder().withNewMetadata()
        .withName(role + "-" + sa).withNamespace(namespace).endMetadata()
        .withNewRoleRef("rbac.authorization.k8s.io", kind, role)
        .addNewSubject().withKind("ServiceAccount").withName(sa).withNamespace(saNamespace).endSubject().build())
        .serverSideApply();
  }

  /** A job with steps a and b, launched as the operator leaves it (status.logs pointing here). */
  static NixekJob job(String namespace, String name) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    NixekJobSpec spec = new NixekJobSpec();
    spec.machineImageName = "img";
    spec.steps = new ArrayList<>();
    for (String s : List.of("a", "b")) {
      NixekJobStep st = new NixekJobStep();
      st.name = s;
      st.run = "echo " + s;
      spec.steps.add(st);
    }
    job.setSpec(spec);
    NixekJob created = admin.resources(NixekJob.class).inNamespace(namespace).resource(job).create();
    created.setStatus(new NixekJobStatus());
    created.getStatus().logs = new NixekJobLogs(LogPaths.jobUrl(URI.create(base), namespace, name),
        LogPaths.followCommand(namespace, name));
    return admin.resource(created).updateStatus();
  }

  static void stepState(NixekJob job, int index, NixekStepStatus.State state) {
    NixekJob fresh = admin.resources(NixekJob.class).inNamespace(job.getMetadata().getNamespace())
        .withName(job.getMetadata().getName()).get();
    if (fresh.getStatus().steps == null) {
      fresh.getStatus().steps = new ArrayList<>();
      for (NixekJobStep s : fresh.getSpec().steps) {
        NixekStepStatus st = new NixekStepStatus();
        st.name = s.name;
        st.state = NixekStepStatus.State.Pending;
        fresh.getStatus().steps.add(st);
      }
    }
    fresh.getStatus().steps.get(index).state = state;
    admin.resource(fresh).updateStatus();
  }

  static StepLog log(NixekJob job, int index) {
    return new StepLog(job.getMetadata().getNamespace(), job.getMetadata().getName(), job.getMetadata().getUid(),
        index);
  }

  private static HttpResponse<byte[]> get(String token, String path) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String body(HttpResponse<byte[]> r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  @Test
  void aReaderWithRbacReadsTheWholeLogAndAByteRange() throws Exception {
    NixekJob job = job(ns, "full");
    byte[] all = "hello\nworld\n\u00e9\u00e8 binary:\u0000\u0001\n".getBytes(StandardCharsets.UTF_8);
    store.append(log(job, 0), java.util.Arrays.copyOfRange(all, 0, 6));
    store.append(log(job, 0), java.util.Arrays.copyOfRange(all, 6, all.length));
    String reader = server.serviceAccountToken(ns, "reader");

    HttpResponse<byte[]> full = get(reader, LogPaths.step(ns, "full", 0));
    assertThat(full.statusCode()).as(body(full)).isEqualTo(200);
    assertThat(full.body()).isEqualTo(all);
    assertThat(full.headers().firstValue(LogPaths.STORED_BYTES_HEADER)).hasValue(String.valueOf(all.length));
    assertThat(full.headers().firstValue(LogPaths.COMPLETE_HEADER)).hasValue("false");

    HttpResponse<byte[]> range = get(reader, LogPaths.step(ns, "full", 0) + "?offset=6&limit=5");
    assertThat(range.statusCode()).isEqualTo(200);
    assertThat(body(range)).isEqualTo("world");
    HttpResponse<byte[]> past = get(reader, LogPaths.step(ns, "full", 0) + "?offset=1000");
    assertThat(past.statusCode()).isEqualTo(200);
    assertThat(past.body()).isEmpty();
    assertThat(get(reader, LogPaths.step(ns, "full", 1)).body()).as("step b printed nothing").isEmpty();

    // the plugin's client, reading (not following) with the same token
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new LogClient(HTTP, () -> reader).read(job.getStatus().logs.url, 0, 0, false, out);
    assertThat(out.toByteArray()).isEqualTo(all);
  }

  @Test
  void followStartedBeforeTheStepPrintsShowsEveryByteInOrderAndEndsWhenTheStepEnds() throws Exception {
    NixekJob job = job(ns, "follow");
    stepState(job, 0, NixekStepStatus.State.Running);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String reader = server.serviceAccountToken(ns, "reader");
    LogClient client = new LogClient(HTTP, () -> reader);
    CompletableFuture<Long> follower = CompletableFuture.supplyAsync(() -> {
      try {
        return client.read(job.getStatus().logs.url, 0, 0, true, out);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    Thread.sleep(500);
    assertThat(follower).as("waits for bytes").isNotDone();
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    for (int i = 0; i < 200; i++) {
      byte[] chunk = ("line " + i + " " + "x".repeat(i % 37) + "\n").getBytes(StandardCharsets.UTF_8);
      store.append(log(job, 0), chunk);
      expected.write(chunk);
      if (i % 2 == 0) {
        api.logWakeups().changed(log(job, 0));
      }
      if (i % 50 == 0) {
        Thread.sleep(50);
      }
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> out.size() == expected.size());
    assertThat(follower).as("the step still runs").isNotDone();
    stepState(job, 0, NixekStepStatus.State.Succeeded);
    assertThat(follower.get(10, TimeUnit.SECONDS)).isEqualTo(expected.size());
    assertThat(out.toByteArray()).isEqualTo(expected.toByteArray());
  }

  @Test
  void thePluginFollowsEveryStepOfAJobWithTheUsersKubeconfig() throws Exception {
    NixekJob job = job(ns, "plugin");
    store.append(log(job, 0), "from a\n".getBytes(StandardCharsets.UTF_8));
    store.append(log(job, 1), "from b\n".getBytes(StandardCharsets.UTF_8));
    stepState(job, 0, NixekStepStatus.State.Succeeded);
    stepState(job, 1, NixekStepStatus.State.Succeeded);
    Path kubeconfig = server.kubeconfigFor(ns, "reader");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Plugin.run(out, err, "logs", "-f", "--kubeconfig", kubeconfig.toString(), "-n", ns, "plugin");
    assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo("==> step 0: a <==\nfrom a\n==> step 1: b <==\nfrom b\n");

    out.reset();
    err.reset();
    code = Plugin.run(out, err, "logs", "--kubeconfig", kubeconfig.toString(), "-n", ns, "plugin", "b");
    assertThat(code).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("from b\n");

    // a user without nixekjobs/log: the plugin reads the job, the endpoint says 403, the exit code says so
    out.reset();
    err.reset();
    code = Plugin.run(out, err, "logs", "--kubeconfig", server.kubeconfigFor(ns, "viewer").toString(), "-n", ns,
        "plugin", "a");
    assertThat(code).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("HTTP 403").contains("may not get nixekjobs/log");
    assertThat(out.size()).isZero();
  }

  @Test
  void withoutRbacOnTheJobTheAnswerIs403AndNothingAboutTheJobIsRead() throws Exception {
    job(ns, "secret");
    for (String sa : List.of("stranger", "viewer")) {
      HttpResponse<byte[]> r = get(server.serviceAccountToken(ns, sa), LogPaths.step(ns, "secret", 0));
      assertThat(r.statusCode()).as(sa).isEqualTo(403);
      assertThat(body(r)).contains("\"error\":\"forbidden\"").contains("system:serviceaccount:" + ns + ":" + sa);
      // an absent job answers the same: no RBAC, no existence probe
      assertThat(get(server.serviceAccountToken(ns, sa), LogPaths.step(ns, "absent", 0)).statusCode()).isEqualTo(403);
    }
  }

  @Test
  void anotherNamespacesJobIs403ForAReaderOfThisOne() throws Exception {
    job(otherNs, "theirs");
    HttpResponse<byte[]> r = get(server.serviceAccountToken(ns, "reader"), LogPaths.step(otherNs, "theirs", 0));
    assertThat(r.statusCode()).isEqualTo(403);
  }

  @Test
  void noCredentialsOrABadTokenIs401WithAChallenge() throws Exception {
    job(ns, "guarded");
    HttpResponse<byte[]> none = get(null, LogPaths.step(ns, "guarded", 0));
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"nixek-ci\"");
    assertThat(body(none)).contains("client certificate");
    HttpResponse<byte[]> bad = get("not-a-real-token", LogPaths.step(ns, "guarded", 0));
    assertThat(bad.statusCode()).isEqualTo(401);
    String forged = server.serviceAccountToken(ns, "reader");
    forged = forged.substring(0, forged.length() - 4) + "AAAA";
    assertThat(get(forged, LogPaths.step(ns, "guarded", 0)).statusCode()).as("a token with a bad signature")
        .isEqualTo(401);
  }

  @Test
  void aReaderGets404ForNoSuchJobOrStepAnd400ForABadRequest() throws Exception {
    job(ns, "two-steps");
    String reader = server.serviceAccountToken(ns, "reader");
    HttpResponse<byte[]> noJob = get(reader, LogPaths.step(ns, "absent", 0));
    assertThat(noJob.statusCode()).isEqualTo(404);
    assertThat(body(noJob)).contains("no NixekJob " + ns + "/absent");
    HttpResponse<byte[]> noStep = get(reader, LogPaths.step(ns, "two-steps", 2));
    assertThat(noStep.statusCode()).isEqualTo(404);
    assertThat(body(noStep)).contains("has 2 steps; there is no step 2");
    assertThat(get(reader, LogPaths.step(ns, "two-steps", 0) + "?offset=-1").statusCode()).isEqualTo(400);
    assertThat(get(reader, LogPaths.step(ns, "two-steps", 0) + "?follow=maybe").statusCode()).isEqualTo(400);
  }

  @Test
  void madeUpTokensFromOneClientAreThrottledBeforeAnyTokenReviewButAKnownReaderGoesOn() throws Exception {
    job(ns, "throttled");
    String reader = server.serviceAccountToken(ns, "reader");
    // a report API of its own: its failure budget (2 a minute) must not throttle the other tests' client
    Vertx v = Vertx.vertx();
    ReportApi strict = new ReportApi(v, server.clientFor(ns, "report-api"), ReportApiConfig.fromEnv(Map.of(
        "NIXEK_REPORT_BIND", "127.0.0.1", "NIXEK_REPORT_PORT", "0", "NIXEK_WATCH_NAMESPACES", ns,
        "NIXEK_REPORT_AUTH_FAILURES_PER_MINUTE", "2")), store);
    try {
      int port = strict.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).actualPort();
      String path = "http://127.0.0.1:" + port + LogPaths.step(ns, "throttled", 0);
      java.util.function.Function<String, HttpResponse<byte[]>> send = t -> {
        try {
          return HTTP.send(HttpRequest.newBuilder(URI.create(path)).header("Authorization", "Bearer " + t).build(),
              HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      };
      assertThat(send.apply(reader).statusCode()).as("known before the flood").isEqualTo(200);
      List<Integer> codes = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        codes.add(send.apply("made-up-" + i).statusCode());
      }
      assertThat(codes).containsExactly(401, 401, 429, 429);
      HttpResponse<byte[]> throttled = send.apply("made-up-4");
      assertThat(throttled.headers().firstValue("Retry-After")).isPresent();
      assertThat(send.apply(reader).statusCode()).as("a token authenticated within 10 s is not throttled")
          .isEqualTo(200);
    } finally {
      strict.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      v.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** The plugin's entry point with its streams captured. */
  static final class Plugin {
    static int run(ByteArrayOutputStream out, ByteArrayOutputStream err, String... args) {
      return dev.nixek.ci.cli.KubectlNixek.run(out, new PrintStream(err, true, StandardCharsets.UTF_8), args);
    }
  }
}
