package dev.nixek.ci.common.status;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the report API's status fields of one job — {@code status.steps}, and once {@code status.evaluation} — by
 * read-modify-write: read the job, compute the new value, JSON-patch {@code /status} with the read's
 * resourceVersion as a precondition, and start over on 409 (docs/architecture.md#who-writes-what).
 *
 * <p>A JSON patch rather than a merge patch: the fabric8 mock server (demo, mock tier) concatenates lists on merge
 * patches, and a JSON patch means the same everywhere. Setting {@code /metadata/resourceVersion} to the value read
 * makes the API server refuse the write with 409 if anything changed the job since.
 *
 * <p>The patch carries only {@code status.steps}, so the operator's fields (written by server-side apply under its
 * field manager) are never touched, and a concurrent operator write makes this one
 * retry against fresh data instead of overwriting it. A report is acknowledged only after its write succeeded.
 *
 * <p>No {@code fieldManager} parameter is sent: the API server then names the manager after the client's user agent
 * (give the client one, e.g. {@code nixek-report-api}), and the fabric8 mock server silently drops patches that
 * carry the parameter.
 */
public final class StepsWriter {
  private static final Logger LOG = LoggerFactory.getLogger(StepsWriter.class);
  private static final int MAX_ATTEMPTS = 20;

  private final KubernetesClient client;

  public StepsWriter(KubernetesClient client) {
    this.client = client;
  }

  /**
   * Applies {@code change} to the current job until the write sticks. {@code change} sees {@code null} when the job
   * does not exist; it must be pure, as it may run several times.
   */
  public ReportOutcome update(String namespace, String name, Function<NixekJob, ReportOutcome> change) {
    var resource = client.resources(NixekJob.class).inNamespace(namespace).withName(name);
    for (int attempt = 1; ; attempt++) {
      NixekJob job = resource.get();
      ReportOutcome outcome = change.apply(job);
      if (!(outcome instanceof ReportOutcome.Applied applied)) {
        return outcome;
      }
      try {
        resource.subresource("status").patch(PatchContext.of(PatchType.JSON), patchBody(job, applied));
        return outcome;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          continue; // deleted meanwhile: the next read sees null and the change says what that means
        }
        if (e.getCode() != 409 || attempt >= MAX_ATTEMPTS) {
          throw e;
        }
        LOG.debug("409 writing steps of {}/{} (attempt {}), retrying on a fresh read", namespace, name, attempt);
        backoff(attempt);
      }
    }
  }

  private static String patchBody(NixekJob job, ReportOutcome.Applied applied) {
    Map<String, Object> precondition = new LinkedHashMap<>();
    precondition.put("op", "replace");
    precondition.put("path", "/metadata/resourceVersion");
    precondition.put("value", job.getMetadata().getResourceVersion());
    Map<String, Object> fields = new LinkedHashMap<>();
    if (applied.steps() != null) {
      fields.put("steps", applied.steps());
    }
    if (applied.evaluation() != null) {
      fields.put("evaluation", applied.evaluation());
    }
    if (applied.agentEnded() != null) {
      fields.put("agentEnded", applied.agentEnded());
    }
    List<Object> ops = new ArrayList<>();
    ops.add(precondition);
    if (job.getStatus() == null) {
      ops.add(add("/status", fields));
    } else {
      // "add" of an existing member replaces it (RFC 6902)
      fields.forEach((name, value) -> ops.add(add("/status/" + name, value)));
    }
    return Serialization.asJson(ops);
  }

  private static Map<String, Object> add(String path, Object value) {
    Map<String, Object> op = new LinkedHashMap<>();
    op.put("op", "add");
    op.put("path", path);
    op.put("value", value);
    return op;
  }

  private static void backoff(int attempt) {
    try {
      Thread.sleep(ThreadLocalRandom.current().nextLong(1, 5L * Math.min(attempt, 10) + 2));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while retrying a status write", e);
    }
  }
}
