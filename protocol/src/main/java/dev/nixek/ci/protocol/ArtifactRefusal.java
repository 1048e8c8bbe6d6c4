package dev.nixek.ci.protocol;

/**
 * A file the agent would not upload ({@code artifacts/refused}): a match outside the working directory, a symlink
 * escaping it, a file over a limit, an upload that failed. Listed in the step's status with the reason.
 */
public record ArtifactRefusal(String name, String path, String reason) {}
