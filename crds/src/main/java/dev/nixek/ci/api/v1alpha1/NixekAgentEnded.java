package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Why the agent stopped a job before its steps' reports said how it ended (written by the report API, once). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekAgentEnded {
  @JsonPropertyDescription("The agent's exit code: 4 when the report API refused one of its reports (409/422).")
  public Integer exitCode;

  @JsonPropertyDescription("The agent's account: which report was refused and the report API's answer (control "
      + "characters escaped, at most 1024 characters).")
  public String reason;

  @JsonPropertyDescription("When the agent said so (RFC 3339, the machine's clock).")
  public String time;
}
