package dev.nixek.ci.operator.pod;

import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * What the API server said when it refused to create an object, for a condition message and an Event: its own
 * message ({@code pods "nixek-eval-…" is forbidden: exceeded quota: …}) rather than fabric8's wrapping of the whole
 * request, or, when no answer came, what went wrong on the way.
 */
public final class ApiRefusals {
  static final int MAX_MESSAGE = 1024;

  private ApiRefusals() {}

  /** The refusal in the API server's words, bounded; {@code secret} (a token being created) never appears in it. */
  public static String message(KubernetesClientException e, String secret) {
    String said = e.getStatus() != null && e.getStatus().getMessage() != null && !e.getStatus().getMessage().isBlank()
        ? e.getStatus().getMessage()
        : e.getCause() != null ? e.getMessage() + ": " + e.getCause() : e.getMessage();
    if (said == null || said.isBlank()) {
      said = "HTTP " + e.getCode();
    }
    if (secret != null && !secret.isEmpty()) {
      said = said.replace(secret, "<redacted>");
    }
    return said.length() <= MAX_MESSAGE ? said : said.substring(0, MAX_MESSAGE - 1) + "…";
  }
}
