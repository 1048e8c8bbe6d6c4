package dev.nixek.ci.builder;

/**
 * What {@link MultipartUploader} did: the object's size and SHA-256 (lowercase hex), how many parts of which
 * size were sent, and whether it uploaded at all ({@code false}: an identical object was already there).
 */
public record UploadResult(long size, String sha256, boolean uploaded, int partCount, int partSize) {}
