package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/**
 * Observed state of a {@link NixekJob}. Two writers share it (docs/architecture.md#who-writes-what): the operator owns every field but
 * {@code steps} and {@code evaluation}; the report API owns those two. A field a writer does not own stays
 * {@code null} in what that writer sends, so that neither claims nor wipes the other's fields.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekJobStatus {
  /** The spec generation this status describes. */
  @JsonPropertyDescription("The metadata.generation this status was computed from.")
  public Long observedGeneration;

  /** The job's conditions; {@code Succeeded} is the one that matters. */
  @JsonPropertyDescription(ConditionReason.JOB_SUCCEEDED
      + " For GitOps tools (kstatus) the operator derives from Succeeded: Ready (the same status, reason and "
      + "message), Reconciling (True while Succeeded is Unknown) and Stalled (True once it is False).")
  public List<Condition> conditions;

  /** How far the job got, as "n/total". */
  @JsonPropertyDescription("Progress as n/total: n is the running step (1-based), or the number of steps "
      + "finished when none is running.")
  public String currentStep;

  /** The machine image the job runs on. */
  @JsonPropertyDescription("The AMI (or local image) the job's machine was launched from.")
  public String imageId;

  /** The machine running the job. */
  @JsonPropertyDescription("The id of the machine running the job: an EC2 instance id, or a local machine id.")
  public String instanceId;

  /** Which launch attempt the job is on. */
  @JsonPropertyDescription("The launch attempt, from 1; each attempt has its own launch token and step token. A new "
      + "attempt is made when the previous attempt's machine was terminated before it was recorded or reported, or "
      + "when spec.retries allows a retry after an infrastructure failure (status.attempts).")
  public Integer attempt;

  /** The earlier attempts of a retried job ({@code spec.retries}), oldest first. */
  @JsonPropertyDescription("The earlier attempts of a job retried after an infrastructure failure (spec.retries), "
      + "oldest first: how each ended. The current attempt is status.attempt; its outcome is the condition.")
  @Size(max = 16)
  public List<NixekJobAttempt> attempts;

  /** The idempotency token of the current launch. */
  @JsonPropertyDescription("Idempotency token (EC2 ClientToken) of the current launch, recorded before launching "
      + "so that a retried launch never creates a second machine. Not a credential.")
  public String launchToken;

  /** The SHA-256 of the current attempt's step token: the record the report API checks step reports against. */
  @JsonPropertyDescription("SHA-256 (hex) of the current attempt's step token, written by the operator with "
      + "status.attempt, before the launch. The report API accepts a step report only with the token hashing to it, "
      + "so a new attempt's hash refuses the old attempt's token. Not a credential.")
  public String stepTokenSha256;

  /** The SHA-256 of the evaluation token, while the job's evaluation pod may post its result. */
  @JsonPropertyDescription("SHA-256 (hex) of the job's evaluation token, written by the operator before the "
      + "evaluation starts and removed once the result is recorded. Not a credential.")
  public String evaluationTokenSha256;

  /** The job's secret values, sealed for the report API (docs/secrets.md#sealing): ciphertext only. */
  @JsonPropertyDescription("The values of the Secrets the job uses, sealed by the operator at launch for the report "
      + "API, which serves them to the job's agent while it runs (AES-256-GCM under a key only the two hold, bound to "
      + "this job's uid and attempt). Not readable without that key.")
  public String sealedSecrets;

  /** Whether the machine has been terminated. */
  @JsonPropertyDescription("True once the operator has seen the job's machine shutting down or terminated (or "
      + "established that none was launched).")
  public Boolean machineTerminated;

  /** When the machine was launched. */
  @JsonPropertyDescription("When the job's machine was launched (RFC 3339).")
  public String startTime;

  /** When the job reached a terminal state. */
  @JsonPropertyDescription("When the job finished (RFC 3339).")
  public String completionTime;

  /** Where the job's full step logs are and how to follow them (written by the operator at launch). */
  @JsonPropertyDescription("Where the job's full step logs are served and the command to follow them; written by the "
      + "operator when it launches the job.")
  public NixekJobLogs logs;

  /** What the job's Nix expression evaluated to (nix and flake forms), written by the report API. */
  @JsonPropertyDescription("What the job's Nix expression (spec.nix or spec.flake) evaluated to: the steps and the "
      + "machine. Written once, by the report API, from the evaluation pod's result.")
  public NixekJobEvaluation evaluation;

  /** Why the agent stopped the job early, when it did (report API). */
  @JsonPropertyDescription("Written by the report API when the job's agent stopped the job before its steps' "
      + "reports said how it ended (a refused report): the agent's exit code and reason, which the job's condition "
      + "then quotes.")
  public NixekAgentEnded agentEnded;

  /** The steps' results, written by the report API from the agent's reports. */
  @JsonPropertyDescription("Per-step results, written by the report API from the agent's reports.")
  public List<NixekStepStatus> steps;

  /** The commit status last posted to the forge (jobs of a NixekRepository). */
  @JsonPropertyDescription("The commit status last posted to the forge for this job (jobs of a NixekRepository): "
      + "written by the operator's forge-status poster once the forge accepted it.")
  public NixekForgeStatus forgeStatus;
}
