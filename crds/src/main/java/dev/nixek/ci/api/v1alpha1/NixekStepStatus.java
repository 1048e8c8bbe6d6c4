package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The observed result of one step. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekStepStatus {
  /** Step states; a step never moves backwards. */
  public enum State { Pending, Running, Succeeded, Failed, Skipped }

  /** The step's name. */
  @JsonPropertyDescription("Name of the step.")
  public String name;

  /** The step's state. */
  @JsonPropertyDescription("Pending, Running, Succeeded, Failed or Skipped.")
  public State state;

  /** The step's exit code. */
  @JsonPropertyDescription("Exit code of the step's process (128+signal when killed).")
  public Integer exitCode;

  /** Whether the agent killed the step for running too long. */
  @JsonPropertyDescription("True when the agent killed the step because it ran past its timeoutSeconds.")
  public Boolean timedOut;

  /** When the step started. */
  @JsonPropertyDescription("When the step started (RFC 3339, agent clock).")
  public String startTime;

  /** When the step finished. */
  @JsonPropertyDescription("When the step finished (RFC 3339, agent clock).")
  public String finishTime;

  /** The last bytes of the step's output. */
  @JsonPropertyDescription("The last few KiB of the step's stored output, as text (bounded; the full log is in the "
      + "log store). Written at most once per NIXEK_REPORT_STATUS_INTERVAL_MILLIS while the step runs, and finally "
      + "with its end.")
  public String outputTail;

  /** How many bytes of output the step produced. */
  @JsonPropertyDescription("Bytes of output the step produced and the report API acknowledged (at most one status "
      + "interval behind while it runs; exact once it ended). More than the stored log holds when the output was cut "
      + "(outputCutAtBytes).")
  public Long outputBytes;

  /** How many output chunks were acknowledged. */
  @JsonPropertyDescription("Output chunks the report API acknowledged (at most one status interval behind while the "
      + "step runs).")
  public Long outputChunks;

  /** Where the stored log was cut, when the step printed more than its limit. */
  @JsonPropertyDescription("Set when the step's output went past NIXEK_LOG_STEP_LIMIT_BYTES or the job's "
      + "NIXEK_LOG_JOB_LIMIT_BYTES: the log store keeps the first this many bytes and one marker line; later output "
      + "was acknowledged but not stored. The step itself is not failed for it.")
  public Long outputCutAtBytes;

  /** The step's stored artifact files (bounded). */
  @JsonPropertyDescription("The step's artifact files: stored (with size and SHA-256) or refused (with an error), at "
      + "most NIXEK_ARTIFACT_STATUS_MAX in the whole job; artifactsNotListed counts the rest. kubectl nixek artifacts lists all of them "
      + "from the store.")
  @io.fabric8.generator.annotation.Size(max = 200)
  public java.util.List<NixekArtifactStatus> artifacts;

  /** Artifact files stored or refused but not listed in artifacts (over the status bound). */
  @JsonPropertyDescription("Set when more artifact files were stored or refused than status lists "
      + "(NIXEK_ARTIFACT_STATUS_MAX): how many are not listed in artifacts.")
  public Long artifactsNotListed;
}
