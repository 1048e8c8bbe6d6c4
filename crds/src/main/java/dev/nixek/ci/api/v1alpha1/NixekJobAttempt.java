package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One earlier attempt of a job that was retried ({@code spec.retries}): how it ended, kept after its retry. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekJobAttempt {
  @JsonPropertyDescription("The attempt's number (status.attempt while it ran).")
  public Integer attempt;

  @JsonPropertyDescription("Why the attempt ended: InstanceLost or AgentNeverReported (the reasons that are retried).")
  public String reason;

  @JsonPropertyDescription("The message the job would have ended with, had it not been retried.")
  public String message;

  @JsonPropertyDescription("The machine the attempt ran on, if one was recorded.")
  public String instanceId;

  @JsonPropertyDescription("When the attempt's machine was launched (RFC 3339).")
  public String startTime;

  @JsonPropertyDescription("When the operator decided the attempt was over and retried (RFC 3339).")
  public String finishTime;
}
