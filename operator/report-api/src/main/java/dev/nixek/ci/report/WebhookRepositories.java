package dev.nixek.ci.report;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The NixekRepositories webhooks may name, kept current by a watch (as {@link TokenRecords} keeps the jobs): a
 * delivery costs a map read, never an API call, so a flood of deliveries for unknown repositories costs nothing. Only
 * {@link WebhookRepository}'s fields are kept. Read as generic objects, by field name: this process needs five
 * fields of the kind, not its Java model.
 */
final class WebhookRepositories implements AutoCloseable {
  static final ResourceDefinitionContext KIND = new ResourceDefinitionContext.Builder()
      .withGroup("ci.nixek.dev").withVersion("v1alpha1").withKind("NixekRepository")
      .withPlural("nixekrepositories").withNamespaced(true).build();

  private final List<SharedIndexInformer<GenericKubernetesResource>> informers = new ArrayList<>();
  private final Map<String, WebhookRepository> byKey = new ConcurrentHashMap<>();

  WebhookRepositories(KubernetesClient client, List<String> namespaces) {
    var repos = client.genericKubernetesResources(KIND);
    if (namespaces.isEmpty()) {
      informers.add(repos.inAnyNamespace().runnableInformer(0));
    } else {
      for (String ns : namespaces) {
        informers.add(repos.inNamespace(ns).runnableInformer(0));
      }
    }
    ResourceEventHandler<GenericKubernetesResource> handler = new ResourceEventHandler<>() {
      @Override
      public void onAdd(GenericKubernetesResource r) {
        WebhookRepository slim = slim(r);
        byKey.put(slim.key(), slim);
      }

      @Override
      public void onUpdate(GenericKubernetesResource oldObj, GenericKubernetesResource r) {
        onAdd(r);
      }

      @Override
      public void onDelete(GenericKubernetesResource r, boolean unknownFinalState) {
        // only the object with this UID: a delete seen after a re-create must not drop the new one
        byKey.computeIfPresent(r.getMetadata().getNamespace() + "/" + r.getMetadata().getName(),
            (k, v) -> v.uid().equals(r.getMetadata().getUid()) ? null : v);
      }
    };
    informers.forEach(i -> i.addEventHandler(handler));
  }

  /** Starts the watches; completes once every one has listed. */
  CompletableFuture<Void> start() {
    return CompletableFuture.allOf(informers.stream()
        .map(i -> i.start().toCompletableFuture()).toArray(CompletableFuture[]::new));
  }

  boolean synced() {
    return informers.stream().allMatch(SharedIndexInformer::hasSynced);
  }

  boolean watching() {
    return informers.stream().allMatch(SharedIndexInformer::isWatching);
  }

  Optional<WebhookRepository> find(String namespace, String name) {
    return Optional.ofNullable(byKey.get(namespace + "/" + name));
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }

  static WebhookRepository slim(GenericKubernetesResource r) {
    Map<String, Object> props = r.getAdditionalProperties();
    Map<?, ?> spec = map(props.get("spec"));
    Map<?, ?> status = map(props.get("status"));
    List<String> branches = new ArrayList<>();
    if (spec.get("branches") instanceof List<?> l) {
      for (Object o : l) {
        if (o instanceof String s) {
          branches.add(s);
        }
      }
    }
    Map<?, ?> prs = map(spec.get("pullRequests"));
    boolean prsOn = !Boolean.FALSE.equals(prs.get("enabled"));
    boolean forks = Boolean.TRUE.equals(prs.get("forks"));
    Object sealed = status.get("sealedWebhookSecret");
    // without spec.webhookSecretRef the operator seals nothing, and a stale sealed value must not keep webhooks open
    if (spec.get("webhookSecretRef") == null) {
      sealed = null;
    }
    return new WebhookRepository(r.getMetadata().getNamespace(), r.getMetadata().getName(),
        r.getMetadata().getUid(), branches, prsOn, forks, sealed instanceof String s && !s.isEmpty() ? s : null);
  }

  private static Map<?, ?> map(Object o) {
    return o instanceof Map<?, ?> m ? m : Map.of();
  }
}
