package dev.nixek.ci.report;

import dev.nixek.ci.common.seal.SealKey;
import dev.nixek.ci.common.seal.Sealer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

/**
 * A report API with webhooks on the fabric8 mock API server (CRUD mode, with the generated NixekRepository CRD and its
 * status subresource), a seal key of its own, and helpers that make repositories the way the operator does (webhook secret
 * sealed into status under the repository's identity) and post deliveries the way a forge does.
 */
final class WebhookFixture implements AutoCloseable {
  static final String NS = "ci";

  final KubernetesMockServer kube;
  final KubernetesClient client;
  final Vertx vertx = Vertx.vertx();
  final Sealer sealer = new Sealer(SealKey.random());
  final ReportApi api;
  final int port;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  WebhookFixture(Map<String, String> env) throws Exception {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    kube = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    kube.init();
    client = kube.createClient(b -> b.editOrNewConfig().withRequestRetryBackoffLimit(0).endConfig());
    // the generated CRD (its schema and status subresource), as the chart installs it
    String crdFile = "/META-INF/fabric8/nixekrepositories.ci.nixek.dev-v1.yml";
    try (var crd = WebhookFixture.class.getResourceAsStream(crdFile)) {
      client.apiextensions().v1().customResourceDefinitions().resource(
          io.fabric8.kubernetes.client.utils.Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
    Map<String, String> all = new LinkedHashMap<>();
    all.put("NIXEK_REPORT_BIND", "127.0.0.1");
    all.put("NIXEK_REPORT_PORT", "0");
    all.put("NIXEK_WATCH_NAMESPACES", NS);
    all.putAll(env);
    api = new ReportApi(vertx, client, ReportApiConfig.fromEnv(all), new MemoryLogStore(),
        WebhookConfig.fromEnv(all), SealKeys.of(sealer));
    HttpServer server = api.start().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    port = server.actualPort();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!api.webhookRepositories().synced() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }

  /** A repository building {@code branches} (empty: the default branch), as the operator leaves it. */
  GenericKubernetesResource repository(String namespace, String name, String secret, List<String> branches,
      boolean pullRequests, boolean forks) {
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("url", "https://github.com/octo-org/" + name + ".git");
    spec.put("forge", Map.of("kind", "github"));
    if (!branches.isEmpty()) {
      spec.put("branches", branches);
    }
    spec.put("pullRequests", Map.of("enabled", pullRequests, "forks", forks));
    if (secret != null) {
      spec.put("webhookSecretRef", Map.of("name", name + "-webhook", "key", "secret"));
    }
    GenericKubernetesResource r = client.genericKubernetesResources(WebhookRepositories.KIND).inNamespace(namespace)
        .resource(new GenericKubernetesResourceBuilder().withApiVersion("ci.nixek.dev/v1alpha1")
            .withKind("NixekRepository").withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
            .addToAdditionalProperties("spec", spec).build())
        .create();
    if (secret != null) {
      String uid = r.getMetadata().getUid();
      String sealed = sealer.seal(secret, dev.nixek.ci.common.seal.SealContexts.repository(WebhookSecrets.PURPOSE,
          namespace, name, uid));
      r = client.genericKubernetesResources(WebhookRepositories.KIND).inNamespace(namespace).withName(name)
          .subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE),
              "{\"status\":{\"sealedWebhookSecret\":\"" + sealed + "\"}}");
    }
    awaitCached(namespace, name, secret != null);
    return r;
  }

  private void awaitCached(String namespace, String name, boolean sealed) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      var found = api.webhookRepositories().find(namespace, name);
      if (found.isPresent() && (!sealed || found.get().sealedSecret() != null)) {
        return;
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new AssertionError("repository " + namespace + "/" + name + " never reached the report API's cache");
  }

  /** The repository as the API server has it now. */
  GenericKubernetesResource get(String namespace, String name) {
    return client.genericKubernetesResources(WebhookRepositories.KIND).inNamespace(namespace).withName(name).get();
  }

  /** {@code status.webhook} of the repository, or null. */
  @SuppressWarnings("unchecked")
  Map<String, Object> webhookStatus(String namespace, String name) {
    Object status = get(namespace, name).getAdditionalProperties().get("status");
    return status instanceof Map<?, ?> m ? (Map<String, Object>) m.get("webhook") : null;
  }

  /** GitHub's headers for a delivery of {@code event} with id {@code delivery}, signed with {@code secret}. */
  static Map<String, String> github(String event, String delivery, String secret, byte[] body) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Content-Type", "application/json");
    h.put("User-Agent", "GitHub-Hookshot/044aadd");
    h.put("X-GitHub-Event", event);
    h.put("X-GitHub-Delivery", delivery);
    h.put("X-GitHub-Hook-ID", "109948940");
    h.put(WebhookSignature.HEADER, WebhookSignature.sign(secret.getBytes(StandardCharsets.UTF_8), body));
    return h;
  }

  HttpResponse<String> post(String namespace, String name, Map<String, String> headers, byte[] body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/webhooks/"
        + namespace + "/" + name)).timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static byte[] resource(String name) {
    try (var in = WebhookFixture.class.getResourceAsStream("/webhooks/github/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test resource /webhooks/github/" + name);
      }
      return in.readAllBytes();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void close() throws Exception {
    api.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    client.close();
    kube.destroy();
  }
}
