package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;
import java.util.Map;

/**
 * What a {@link NixekJob} runs and where, in one of three forms: {@code nix} (the whole job as a Nix expression),
 * {@code flake} (a job of a flake at a pinned revision), or explicit {@code steps} with {@code machineImageName} or
 * an inline {@code machine}. The first two are evaluated by an evaluation pod into steps and a machine
 * ({@code status.evaluation}).
 *
 * <p>Immutable once created, except {@code cancel} (docs/operations.md, "GitOps semantics"): a job runs once, as it was
 * created, so a changed field is refused by the API server naming it, not silently ignored while the job runs on the
 * old one. One transition rule per field, each comparing presence too (a rule on the field itself would not run when
 * the field is added or removed); equality is linear, so 1,000 steps stay within the cost budget.
 *
 * <p>Unique step names are checked by the operator, not the schema: a CEL rule comparing every pair of up to 1,000
 * steps exceeds the API server's cost budget (measured: 3.2x on kube-apiserver 1.37), and 1,000 steps stays allowed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "[has(self.nix), has(self.flake), has(self.steps)].filter(x, x).size() == 1",
    message = "exactly one of spec.nix, spec.flake and spec.steps must be set")
@ValidationRule(value = "has(self.steps) ? has(self.machineImageName) != has(self.machine)"
    + " : !has(self.machineImageName) && !has(self.machine)",
    message = "spec.steps needs exactly one of spec.machineImageName and spec.machine; with spec.nix or spec.flake "
        + "the job names its machine itself, so neither is set")
@ValidationRule(value = "has(self.nix) == has(oldSelf.nix)"
    + " && (!has(self.nix) || self.nix == oldSelf.nix)", fieldPath = ".nix",
    message = "spec.nix" + NixekJobSpec.IMMUTABLE)
@ValidationRule(value = "has(self.flake) == has(oldSelf.flake)"
    + " && (!has(self.flake) || self.flake == oldSelf.flake)", fieldPath = ".flake",
    message = "spec.flake" + NixekJobSpec.IMMUTABLE)
@ValidationRule(value = "has(self.machineImageName) == has(oldSelf.machineImageName)"
    + " && (!has(self.machineImageName) || self.machineImageName == oldSelf.machineImageName)",
    fieldPath = ".machineImageName",
    message = "spec.machineImageName" + NixekJobSpec.IMMUTABLE)
@ValidationRule(value = "has(self.machine) == has(oldSelf.machine)"
    + " && (!has(self.machine) || self.machine == oldSelf.machine)", fieldPath = ".machine",
    message = "spec.machine" + NixekJobSpec.IMMUTABLE)
@ValidationRule(value = "has(self.steps) == has(oldSelf.steps)"
    + " && (!has(self.steps) || self.steps == oldSelf.steps)", fieldPath = ".steps",
    message = "spec.steps" + NixekJobSpec.IMMUTABLE)
@ValidationRule(value = "has(self.env) == has(oldSelf.env)"
    + " && (!has(self.env) || self.env == oldSelf.env)", fieldPath = ".env",
    message = "spec.env" + NixekJobSpec.IMMUTABLE)
@ValidationRule(value = "has(self.secrets) == has(oldSelf.secrets)"
    + " && (!has(self.secrets) || self.secrets == oldSelf.secrets)", fieldPath = ".secrets",
    message = "spec.secrets" + NixekJobSpec.IMMUTABLE)
@ValidationRule(value = "has(self.instanceType) == has(oldSelf.instanceType)"
    + " && (!has(self.instanceType) || self.instanceType == oldSelf.instanceType)", fieldPath = ".instanceType",
    message = "spec.instanceType" + NixekJobSpec.IMMUTABLE)
@ValidationRule(value = "has(self.timeoutSeconds) == has(oldSelf.timeoutSeconds)"
    + " && (!has(self.timeoutSeconds) || self.timeoutSeconds == oldSelf.timeoutSeconds)", fieldPath = ".timeoutSeconds",
    message = "spec.timeoutSeconds" + NixekJobSpec.IMMUTABLE)
@ValidationRule(value = "has(self.source) == has(oldSelf.source)"
    + " && (!has(self.source) || self.source == oldSelf.source)", fieldPath = ".source",
    message = "spec.source" + NixekJobSpec.IMMUTABLE)
public class NixekJobSpec {
  /** The API server's refusal of a changed field, after the field's name: what may change, and how to run again. */
  public static final String IMMUTABLE = " is immutable: a job runs once, as it was created, and only spec.cancel may "
      + "change; to run again, create a new job (a new name, or metadata.generateName with kubectl create)";

  /** The whole job as a Nix expression, evaluated by the operator's evaluation pod. */
  @JsonPropertyDescription("The whole job as a Nix expression (an attribute set, or a function returning one, with "
      + "'machine' (a NixOS module) and 'steps'), e.g. '{ nixpkgs, ... }: { machine = { pkgs, ... }: { ... }; steps = "
      + "[ { name = \"build\"; run = \"make\"; } ]; }'. Evaluated once, in an evaluation pod; the result is in "
      + "status.evaluation. Exactly one of nix, flake and steps. Immutable.")
  @Size(min = 1, max = 65536)
  @Pattern(TextRules.YAML_PRINTABLE)
  public String nix;

  /** A job of a flake at a pinned revision, evaluated by the operator's evaluation pod. */
  @JsonPropertyDescription("A job exposed by a flake, at a pinned revision (by default the attribute "
      + "ci.jobs.<metadata.name>). Evaluated once, in an evaluation pod; the result is in status.evaluation. Exactly "
      + "one of nix, flake and steps. Immutable.")
  public NixekJobFlake flake;

  /** The {@link NixekMachineImage} (in the job's namespace) whose machine the job runs on. */
  @JsonPropertyDescription("Name of the NixekMachineImage in this namespace whose machine the job runs on. "
      + "Only with steps, and then exactly one of machineImageName and machine.")
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  @Size(max = 253)
  public String machineImageName;

  /** An inline NixOS module; the operator finds or creates the content-addressed image for it. */
  @JsonPropertyDescription("Inline machine: a NixOS module as a Nix expression. The operator finds or creates "
      + "the content-addressed NixekMachineImage for it. Only with steps, and then exactly one of machineImageName and "
      + "machine.")
  @Size(min = 1, max = 65536)
  @Pattern(TextRules.YAML_PRINTABLE)
  public String machine;

  /** The steps, run in order on the job's machine (explicit form). */
  @JsonPropertyDescription("The steps, run in order on the job's machine; a step that fails ends the job. Exactly "
      + "one of nix, flake and steps.")
  @Size(min = 1, max = 1000)
  public List<NixekJobStep> steps;

  /** Environment for every step. */
  @JsonPropertyDescription("Environment variables for every step (a step's own env wins). Not for secrets.")
  public Map<String, @Pattern(TextRules.YAML_PRINTABLE) String> env;

  /** Secret values every step gets (docs/secrets.md). */
  @JsonPropertyDescription("Secret values every step gets (docs/secrets.md): each names a Secret of this namespace "
      + "labelled ci.nixek.dev/job-secret: \"true\", and a key, as an environment variable or a file. The agent "
      + "fetches them from the report API while the job runs; they are never in the agent's config, and masked as "
      + "*** in step output. Immutable.")
  @Size(max = 64)
  public List<NixekSecretUse> secrets;

  /** The EC2 instance type; the operator's default when unset. */
  @JsonPropertyDescription("EC2 instance type for the job's VM, e.g. m7i.large. Defaults to the operator's.")
  @Pattern("^[a-z0-9]+[a-z0-9-]*\\.[a-z0-9]+$")
  public String instanceType;

  /** The whole job's time limit. */
  @JsonPropertyDescription("Time limit for the whole job in seconds, from launch; the VM is terminated when it "
      + "passes. Defaults to the operator's.")
  @Min(1)
  @Max(604800)
  public Long timeoutSeconds;

  /** How many times an infrastructure failure may be retried with a new machine. */
  @JsonPropertyDescription("How many times the job is retried on a new machine after an infrastructure failure: its "
      + "machine was lost (InstanceLost) or its agent never reported (AgentNeverReported). Never after a failing "
      + "step, a timeout or a cancel. Each retry is a new attempt (status.attempt, new tokens) that runs the steps "
      + "from the first; earlier attempts are listed in status.attempts. Default 0.")
  @Min(0)
  @Max(10)
  public Integer retries;

  /** How long a finished job is kept before the operator deletes it (as batch/v1 Job's field). */
  @JsonPropertyDescription("Seconds after the job finished (status.completionTime) at which the operator deletes "
      + "it, as batch/v1 Job's field of the same name; its owned objects go with it, and an inline machine's image "
      + "no job uses any more is then collected. Unset: the operator's default (NIXEK_JOB_TTL_SECONDS_AFTER_FINISHED; "
      + "unset there too: kept).")
  @Min(0)
  @Max(31536000)
  public Long ttlSecondsAfterFinished;

  /** The repository checkout the steps run in (jobs made by a NixekRepository). */
  @JsonPropertyDescription("The repository and commit the agent checks out into the steps' working directory before "
      + "the first step, shown as a first step named checkout (docs/repositories.md#source-checkout). Set on the jobs "
      + "a NixekRepository makes. Immutable.")
  public NixekJobSource source;

  /** Set to true to cancel the job. */
  @JsonPropertyDescription("Set to true to cancel the job: its VM is terminated and the job ends Cancelled. The only "
      + "field of the spec that may change once the job is created.")
  public Boolean cancel;
}
