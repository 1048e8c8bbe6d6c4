package dev.nixek.ci.protocol;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * One step as the agent receives it: exactly one of {@code run} (a shell script, run by {@code /bin/sh -c}) or
 * {@code command} (an argv, run without a shell). {@code secrets} names the secret values it gets (the job's and its
 * own, merged), never the values. With {@code type} {@value #CHECKOUT} it is neither: the agent checks {@code source}
 * out into the working directory itself (docs/repositories.md#source-checkout). {@code artifacts} are the files it
 * keeps, uploaded after it (docs/artifacts.md).
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record AgentStep(
    String name,
    String run,
    List<String> command,
    Map<String, String> env,
    Long timeoutSeconds,
    List<StepSecret> secrets,
    String type,
    AgentSource source,
    List<ArtifactSpec> artifacts) {

  /** The type of the step that checks a job's source out, before the job's own steps. */
  public static final String CHECKOUT = "checkout";

  public AgentStep {
    command = command == null ? null : List.copyOf(command);
    env = env == null ? null : Map.copyOf(env);
    secrets = secrets == null ? null : List.copyOf(secrets);
    artifacts = artifacts == null ? null : List.copyOf(artifacts);
  }

  /** A step without secrets or artifacts. */
  public AgentStep(String name, String run, List<String> command, Map<String, String> env, Long timeoutSeconds) {
    this(name, run, command, env, timeoutSeconds, null);
  }

  /** A step that runs a program. */
  public AgentStep(String name, String run, List<String> command, Map<String, String> env, Long timeoutSeconds,
      List<StepSecret> secrets) {
    this(name, run, command, env, timeoutSeconds, secrets, null, null, null);
  }

  /** A step that runs a program, with the secrets it gets and the artifacts it keeps. */
  public AgentStep(String name, String run, List<String> command, Map<String, String> env, Long timeoutSeconds,
      List<StepSecret> secrets, List<ArtifactSpec> artifacts) {
    this(name, run, command, env, timeoutSeconds, secrets, null, null, artifacts);
  }

  /** The checkout step of a job with a source. */
  public static AgentStep checkout(String name, AgentSource source, Long timeoutSeconds) {
    return new AgentStep(name, null, null, null, timeoutSeconds, null, CHECKOUT, source, null);
  }

  /** Whether the step gets any secret value. */
  @JsonIgnore
  public boolean needsSecrets() {
    return secrets != null && !secrets.isEmpty();
  }

  /** Whether this is the checkout step. */
  @JsonIgnore
  public boolean isCheckout() {
    return CHECKOUT.equals(type);
  }

  /** The argv the agent executes for this step (none for the checkout step). */
  public List<String> argv() {
    return run != null ? List.of("/bin/sh", "-c", run) : command;
  }
}
