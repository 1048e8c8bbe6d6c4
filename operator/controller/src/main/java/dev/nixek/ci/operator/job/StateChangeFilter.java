package dev.nixek.ci.operator.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import java.util.List;

/**
 * Drops the update events of a {@link NixekJob} in which only a step's output counters changed (its tail, byte and
 * chunk counts, last chunk digest: what the report API writes while a step prints), so that a printing step does not
 * wake the operator (and its {@code DescribeInstances}) once per status write (docs/logs.md#clean-up-retention-limits-and-iam).
 * Every other change passes: spec, metadata (labels, finalizers, deletion), the operator's status fields, the
 * evaluation, and any other field of a step (its state, exit code, times). An update that changes nothing at all
 * passes too, as it did before this filter. A running job is still polled by its reconcile's reschedule.
 *
 * <p>Compares the two objects as JSON trees without the ignored fields: robust to fields added later (a new field is a
 * change unless listed here).
 */
public final class StateChangeFilter implements OnUpdateFilter<NixekJob> {
  /** Fields of {@code status.steps[]} that move with the output only. */
  static final List<String> OUTPUT_FIELDS = List.of("outputTail", "outputBytes", "outputChunks", "outputCutAtBytes");
  /** Fields of {@code metadata} that every write changes. */
  private static final List<String> WRITE_FIELDS = List.of("resourceVersion", "managedFields");

  /** JOSDK instantiates it from the reconciler's annotation. */
  public StateChangeFilter() {}

  @Override
  public boolean accept(NixekJob newJob, NixekJob oldJob) {
    if (newJob == null || oldJob == null) {
      return true;
    }
    JsonNode newTree = Serialization.jsonMapper().valueToTree(newJob);
    JsonNode oldTree = Serialization.jsonMapper().valueToTree(oldJob);
    stripWriteFields(newTree);
    stripWriteFields(oldTree);
    if (newTree.equals(oldTree)) {
      return true;
    }
    stripOutputFields(newTree);
    stripOutputFields(oldTree);
    return !newTree.equals(oldTree);
  }

  private static void stripWriteFields(JsonNode job) {
    if (job.get("metadata") instanceof ObjectNode metadata) {
      metadata.remove(WRITE_FIELDS);
    }
  }

  private static void stripOutputFields(JsonNode job) {
    JsonNode status = job.get("status");
    JsonNode steps = status == null ? null : status.get("steps");
    if (steps == null || !steps.isArray()) {
      return;
    }
    for (JsonNode step : steps) {
      if (step instanceof ObjectNode s) {
        s.remove(OUTPUT_FIELDS);
      }
    }
  }
}
