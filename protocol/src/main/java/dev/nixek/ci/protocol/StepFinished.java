package dev.nixek.ci.protocol;

/**
 * Report: the step ended. {@code exitCode} is the process's exit code (128 + signal when it was killed);
 * {@code outputBytes} the total bytes of output the agent read; {@code timedOut} whether the agent killed it
 * for running past its {@code timeoutSeconds}.
 */
public record StepFinished(int exitCode, String finishTime, long outputBytes, boolean timedOut) {}
