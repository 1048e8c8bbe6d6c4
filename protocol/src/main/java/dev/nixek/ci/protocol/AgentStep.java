package dev.nixek.ci.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * One step as the agent receives it: exactly one of {@code run} (a shell script, run by {@code /bin/sh -c}) or
 * {@code command} (an argv, run without a shell). {@code secrets} names the secret values it gets (the job's and its
 * own, merged), never the values.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record AgentStep(
    String name,
    String run,
    List<String> command,
    Map<String, String> env,
    Long timeoutSeconds,
    List<StepSecret> secrets) {

  public AgentStep {
    command = command == null ? null : List.copyOf(command);
    env = env == null ? null : Map.copyOf(env);
    secrets = secrets == null ? null : List.copyOf(secrets);
  }

  /** A step without secrets. */
  public AgentStep(String name, String run, List<String> command, Map<String, String> env, Long timeoutSeconds) {
    this(name, run, command, env, timeoutSeconds, null);
  }

  /** Whether the step gets any secret value. */
  @com.fasterxml.jackson.annotation.JsonIgnore
  public boolean needsSecrets() {
    return secrets != null && !secrets.isEmpty();
  }

  /** The argv the agent executes for this step. */
  public List<String> argv() {
    return run != null ? List.of("/bin/sh", "-c", run) : command;
  }
}
