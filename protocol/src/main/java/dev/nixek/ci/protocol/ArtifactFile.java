package dev.nixek.ci.protocol;

/**
 * One file of a step's artifact, as the agent asks to upload it ({@code artifacts/upload}) and says it uploaded it
 * ({@code artifacts/complete}): the declared artifact's name, the file's path relative to the working directory, its
 * size and its SHA-256 (lower-case hex).
 */
public record ArtifactFile(String name, String path, long size, String sha256) {}
