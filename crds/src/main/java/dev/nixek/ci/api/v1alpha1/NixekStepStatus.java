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
  @JsonPropertyDescription("The last few KiB of the step's combined stdout/stderr (bounded; full output is "
      + "outputBytes long).")
  public String outputTail;

  /** How many bytes of output the step produced. */
  @JsonPropertyDescription("Total bytes of output the step produced so far.")
  public Long outputBytes;

  /** How many output chunks were applied. */
  @JsonPropertyDescription("Number of output chunks applied; the next chunk the report API accepts has this seq.")
  public Long outputChunks;

  /** A digest of the last applied chunk, so a replay of it can be told from a different chunk with the same seq. */
  @JsonPropertyDescription("First 128 bits of the SHA-256 of the last applied output chunk's bytes, in hex: a chunk "
      + "sent again with that seq is a duplicate only if its bytes are the same.")
  public String lastChunkSha256;
}
