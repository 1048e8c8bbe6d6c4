package dev.nixek.ci.protocol;

/** Report: the agent started the step named {@code name} at {@code startTime} (RFC 3339). */
public record StepStarted(String name, String startTime) {}
