package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/**
 * Observed state of a {@link NixekRepository}: the heads seen and their jobs (operator), the last webhook delivery
 * (report API), and the sealed webhook secret the report API verifies deliveries with (operator).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekRepositoryStatus {
  /** The spec generation this status describes. */
  @JsonPropertyDescription("The metadata.generation this status was computed from.")
  public Long observedGeneration;

  /** Ready, Reconciling and Stalled. */
  @JsonPropertyDescription(ConditionReason.REPOSITORY_READY
      + " For GitOps tools (kstatus) the operator derives from Ready: Reconciling (True while Ready is Unknown) and "
      + "Stalled (True once it is False).")
  public List<Condition> conditions;

  /** The branches and pull requests built, and their last commit's jobs. */
  @JsonPropertyDescription("One entry per branch or pull request the repository builds: its last head commit, the "
      + "jobs made for it, or why it is not built.")
  public List<NixekRepositoryHead> heads;

  /** When the heads were last listed. */
  @JsonPropertyDescription("When the heads were last listed successfully (RFC 3339).")
  public String lastPollTime;

  /** The last webhook delivery, written by the report API. */
  @JsonPropertyDescription("The last verified webhook delivery, written by the report API; a change makes the "
      + "operator list the heads at once. The delivery itself names no commit the operator trusts.")
  public NixekRepositoryWebhook webhook;

  /** The webhook secret, sealed for the report API. */
  @JsonPropertyDescription("The webhook secret of spec.webhookSecretRef, sealed (AES-256-GCM) for the report API "
      + "under the seal key and this repository's identity; ciphertext only. Absent without spec.webhookSecretRef.")
  public String sealedWebhookSecret;
}
