package dev.nixek.ci.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

/**
 * The nudge: a JSON merge patch of {@code status.webhook} {deliveryId, event, ref, receivedAt} on the repository's
 * status subresource, carrying the UID it was verified against (a repository deleted and re-created under the same
 * name refuses it). A merge patch touches that one field, so the operator's fields stay as they are; the report
 * API's client names its own field manager.
 */
final class WebhookStatusWriter implements WebhookNudges.Writer {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final KubernetesClient client;

  WebhookStatusWriter(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public void write(WebhookNudges.Nudge n) {
    // patched through a stand-in object: fabric8's patch of a name alone GETs the object first, and the report API
    // may not get repositories (list and watch only; RbacAblationE2E's webhook probe found it)
    GenericKubernetesResource target = new GenericKubernetesResource();
    target.setApiVersion(WebhookRepositories.KIND.getGroup() + "/" + WebhookRepositories.KIND.getVersion());
    target.setKind(WebhookRepositories.KIND.getKind());
    target.setMetadata(new ObjectMetaBuilder().withNamespace(n.repo().namespace()).withName(n.repo().name()).build());
    client.genericKubernetesResources(WebhookRepositories.KIND).inNamespace(n.repo().namespace())
        .resource(target).subresource("status")
        .patch(PatchContext.of(PatchType.JSON_MERGE), body(n));
  }

  static String body(WebhookNudges.Nudge n) {
    ObjectNode root = JSON.createObjectNode();
    root.putObject("metadata").put("uid", n.repo().uid());
    ObjectNode webhook = root.putObject("status").putObject("webhook");
    webhook.put("deliveryId", n.deliveryId());
    webhook.put("event", n.event());
    // null removes the previous delivery's ref: a delivery without one (ping) names none
    webhook.put("ref", n.ref());
    webhook.put("receivedAt", n.receivedAt().toString());
    return root.toString();
  }
}
