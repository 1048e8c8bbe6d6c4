package dev.nixek.ci.report;

import java.util.List;

/**
 * What the webhook endpoint needs of one NixekRepository, kept in memory by {@link WebhookRepositories}: who it is
 * (the UID binds its sealed secret and the nudge), the sealed webhook secret, and what it builds (to answer
 * "ignored" for a delivery about something it never builds). The rest of the object is dropped on arrival.
 *
 * @param branches {@code spec.branches}; empty for the default branch only
 * @param pullRequests {@code spec.pullRequests.enabled} (default true)
 * @param forks {@code spec.pullRequests.forks} (default false)
 * @param sealedSecret {@code status.sealedWebhookSecret}; null while the operator has sealed none
 */
record WebhookRepository(String namespace, String name, String uid, List<String> branches, boolean pullRequests,
    boolean forks, String sealedSecret) {

  WebhookRepository {
    branches = List.copyOf(branches);
  }

  String key() {
    return namespace + "/" + name;
  }
}
