package dev.nixek.ci.builder;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * The success termination message: where the image is ({@code bucket}, {@code key}), what it is
 * ({@code size}, {@code sha256} hex, {@code format} for ImportSnapshot, {@code bootMode}/{@code system} when
 * the image said) and where it came from ({@code drvPath}, {@code outPath}, and {@code nixVersion}: the
 * {@code nix --version} of the build's PATH, absent when that does not run). {@code uploaded} is false when an
 * identical object was already in S3. {@code cache}: what the {@code --cache-grant} step pushed (absent without
 * one). Unknown values are left out, not null.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"bucket", "key", "size", "sha256", "drvPath", "outPath", "format", "bootMode", "system",
    "nixVersion", "uploaded", "cache"})
public record ImageResult(
    String bucket,
    String key,
    long size,
    String sha256,
    String drvPath,
    String outPath,
    DiskFormat format,
    String bootMode,
    String system,
    String nixVersion,
    boolean uploaded,
    CacheStep.Outcome cache) {

  /** A result without a cache step. */
  public ImageResult(String bucket, String key, long size, String sha256, String drvPath, String outPath,
      DiskFormat format, String bootMode, String system, String nixVersion, boolean uploaded) {
    this(bucket, key, size, sha256, drvPath, outPath, format, bootMode, system, nixVersion, uploaded, null);
  }

  ImageResult withCache(CacheStep.Outcome outcome) {
    return new ImageResult(bucket, key, size, sha256, drvPath, outPath, format, bootMode, system, nixVersion,
        uploaded, outcome);
  }
}
