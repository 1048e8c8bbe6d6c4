package dev.nixek.ci.report;

import dev.nixek.ci.common.seal.SealContexts;
import dev.nixek.ci.common.seal.Sealer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a repository's webhook secret from its status ({@code status.sealedWebhookSecret}), sealed by the operator
 * under the seal key and bound to the repository's identity ({@link SealContexts#repository}): the report API holds
 * no Secret rights, and a sealed value copied to another repository does not open. The seal key is the operator's,
 * read once it exists ({@link SealKeys}).
 */
final class WebhookSecrets {
  /** The purpose word of the webhook secret's seal context; the operator seals with the same. */
  static final String PURPOSE = "webhook-secret";
  private static final Logger LOG = LoggerFactory.getLogger(WebhookSecrets.class);

  private final Supplier<Sealer> sealer;

  /** @param sealer the sealer, or null while the seal key is not loaded */
  WebhookSecrets(Supplier<Sealer> sealer) {
    this.sealer = sealer;
  }

  /**
   * The secret of {@code repo}.
   *
   * @throws ApiError 404 when the repository has no webhook secret (webhooks are off for it), 503 when it cannot be
   *     opened (the seal key is not loaded yet, or the value was sealed under another key or identity)
   */
  byte[] open(WebhookRepository repo) {
    if (repo.sealedSecret() == null) {
      throw WebhookHandler.unknownRepository();
    }
    Sealer s = sealer.get();
    if (s == null) {
      throw new ApiError(503, "starting", "the report API has not loaded the seal key yet; retry later");
    }
    try {
      byte[] secret = s.open(repo.sealedSecret(), context(repo));
      if (secret.length == 0) {
        throw WebhookHandler.unknownRepository();
      }
      return secret;
    } catch (Sealer.SealException e) {
      LOG.warn("the webhook secret of repository {} does not open ({}); its deliveries get 503 until the operator "
          + "seals it again", repo.key(), e.getMessage());
      throw new ApiError(503, "webhook_secret_unavailable", "the repository's webhook secret cannot be opened; retry "
          + "later");
    }
  }

  static String context(WebhookRepository repo) {
    return SealContexts.repository(PURPOSE, repo.namespace(), repo.name(), repo.uid());
  }
}
