package dev.nixek.ci.operator.repository;

import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Reads a repository's token and webhook secret from the Secrets its spec names (in its namespace). A missing Secret,
 * key or value is an {@link Invalid} whose message names the Secret and key, never the value.
 */
public final class RepositorySecrets {
  /** The Secret or key is missing, empty or unreadable. */
  public static final class Invalid extends Exception {
    public Invalid(String message) {
      super(message);
    }
  }

  private final KubernetesClient client;

  public RepositorySecrets(KubernetesClient client) {
    this.client = client;
  }

  /** The value of {@code ref} in {@code repo}'s namespace, stripped; null when {@code ref} is null. */
  public String read(NixekRepository repo, NixekSecretKeyRef ref, String field) throws Invalid {
    if (ref == null) {
      return null;
    }
    String where = field + " (Secret " + ref.name + ", key " + ref.key + ")";
    Secret s;
    try {
      s = client.secrets().inNamespace(repo.getMetadata().getNamespace()).withName(ref.name).get();
    } catch (KubernetesClientException e) {
      throw new Invalid(where + " cannot be read: HTTP " + e.getCode());
    }
    if (s == null) {
      throw new Invalid(where + ": the Secret does not exist");
    }
    String encoded = s.getData() == null ? null : s.getData().get(ref.key);
    String value;
    if (encoded != null) {
      try {
        value = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw new Invalid(where + ": the value is not base64");
      }
    } else {
      value = s.getStringData() == null ? null : s.getStringData().get(ref.key);
    }
    if (value == null) {
      throw new Invalid(where + ": the Secret has no such key");
    }
    value = value.strip();
    if (value.isEmpty()) {
      throw new Invalid(where + ": the value is empty");
    }
    if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw new Invalid(where + ": the value holds control characters (a line break?)");
    }
    return value;
  }
}
