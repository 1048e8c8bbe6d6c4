package dev.nixek.ci.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * One step as the agent receives it: exactly one of {@code run} (a shell script, run by {@code /bin/sh -c}) or
 * {@code command} (an argv, run without a shell).
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record AgentStep(
    String name,
    String run,
    List<String> command,
    Map<String, String> env,
    Long timeoutSeconds,
    List<ArtifactSpec> artifacts) {

  public AgentStep {
    command = command == null ? null : List.copyOf(command);
    env = env == null ? null : Map.copyOf(env);
    artifacts = artifacts == null ? null : List.copyOf(artifacts);
  }

  /** A step that keeps no artifacts. */
  public AgentStep(String name, String run, List<String> command, Map<String, String> env, Long timeoutSeconds) {
    this(name, run, command, env, timeoutSeconds, null);
  }

  /** The argv the agent executes for this step. */
  public List<String> argv() {
    return run != null ? List.of("/bin/sh", "-c", run) : command;
  }
}
