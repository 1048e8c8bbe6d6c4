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
  /**
   * Most characters (Unicode code points, as the API server counts a string's maxLength) in a step name: a short
   * sentence such as "Check hello" fits, and so does the name in a condition message, an Event (1 KiB) and the
   * terminal width of {@code kubectl describe}.
   */
  public static final int NAME_MAX = 100;

  /**
   * A step name is one line of display text: no control character (C0, DEL, C1: Unicode category Cc) and no line or
   * paragraph separator (Zl, Zp) anywhere, and no space (category Z) first or last. RE2 and java.util.regex read it
   * alike; nix/lib/step-name.nix checks the same rule.
   */
  public static final String NAME_PATTERN = "^[^\\p{Cc}\\p{Z}]([^\\p{Cc}\\p{Zl}\\p{Zp}]*[^\\p{Cc}\\p{Z}])?$";

  /** The step's name, unique within the job. */
  @JsonPropertyDescription("Name of the step, unique within the job: display text such as 'Check hello', at most 100 "
      + "characters, without control characters or leading/trailing spaces. Reports and files address a step by its "
      + "index, not its name.")
  @Required
  @Size(min = 1, max = NAME_MAX)
  @Pattern(NAME_PATTERN)
  public String name;

  /** A shell script, run with /bin/sh -c. */
  @JsonPropertyDescription("Shell script run with /bin/sh -c. Exactly one of run and command.")
  @Size(min = 1, max = 65536)
  @Pattern(TextRules.YAML_PRINTABLE)
  public String run;

  /** An argv, run without a shell. */
  @JsonPropertyDescription("Program and arguments, run without a shell. Exactly one of run and command.")
  @Size(min = 1, max = 1024)
  public List<@Pattern(TextRules.YAML_PRINTABLE) String> command;

  /** Environment for this step. */
  @JsonPropertyDescription("Environment variables for this step. Not for secrets.")
  public Map<String, @Pattern(TextRules.YAML_PRINTABLE) String> env;

  /** Secret values this step gets, besides the job's ({@code spec.secrets}); a name here wins over the job's. */
  @JsonPropertyDescription("Secret values this step gets (docs/secrets.md), besides the job's spec.secrets; an entry "
      + "of the same name here wins. Fetched by the agent when the step starts; masked as *** in the step's output.")
  @Size(max = 64)
  public List<NixekSecretUse> secrets;

  /** The step's time limit; the agent kills it when it passes. */
  @JsonPropertyDescription("Time limit for this step in seconds; the agent kills the step's processes when it "
      + "passes and the step fails.")
  @Min(1)
  @Max(604800)
  public Long timeoutSeconds;

  /** Files kept after the step. */
  @JsonPropertyDescription("Files to keep after the step (succeeded or failed): the agent uploads the regular files "
      + "matching each artifact's globs inside the working directory; status.steps[].artifacts lists them and "
      + "kubectl nixek artifacts downloads them (docs/artifacts.md).")
  @Size(max = 16)
  public List<NixekJobArtifact> artifacts;
}
