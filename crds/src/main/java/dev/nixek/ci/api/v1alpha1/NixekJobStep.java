package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;
import java.util.Map;

/** One step of a job: a shell script ({@code run}) or an argv ({@code command}). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.run) != has(self.command)", message = "exactly one of run and command must be set")
public class NixekJobStep {
  /** The step's name, unique within the job. */
  @JsonPropertyDescription("Name of the step, unique within the job.")
  @Required
  @Size(min = 1, max = 63)
  @Pattern("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
  public String name;

  /** A shell script, run with /bin/sh -c. */
  @JsonPropertyDescription("Shell script run with /bin/sh -c. Exactly one of run and command.")
  @Size(min = 1, max = 65536)
  public String run;

  /** An argv, run without a shell. */
  @JsonPropertyDescription("Program and arguments, run without a shell. Exactly one of run and command.")
  @Size(min = 1, max = 1024)
  public List<String> command;

  /** Environment for this step. */
  @JsonPropertyDescription("Environment variables for this step. Not for secrets.")
  public Map<String, String> env;

  /** The step's time limit; the agent kills it when it passes. */
  @JsonPropertyDescription("Time limit for this step in seconds; the agent kills the step's processes when it "
      + "passes and the step fails.")
  @Min(1)
  @Max(604800)
  public Long timeoutSeconds;
}
