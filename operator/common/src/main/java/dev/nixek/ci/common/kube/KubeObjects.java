package dev.nixek.ci.common.kube;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/** Writing Kubernetes objects that an earlier attempt (a crash, a lost answer) or another writer may have made. */
public final class KubeObjects {
  private KubeObjects() {}

  /**
   * Runs {@code create} (a fabric8 or JOSDK create, which returns the created object); empty when an object of that
   * name exists already (409 Conflict). Objects are named so that a repeated attempt makes the same one, so finding
   * it there is success; every other error is thrown.
   */
  public static <T> Optional<T> createIfAbsent(Supplier<T> create) {
    try {
      return Optional.of(Objects.requireNonNull(create.get(), "create returned nothing"));
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      return Optional.empty();
    }
  }
}
