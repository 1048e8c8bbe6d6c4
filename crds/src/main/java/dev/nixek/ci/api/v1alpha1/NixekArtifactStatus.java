package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One file of a step's artifact as stored, or why it was not (docs/artifacts.md). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekArtifactStatus {
  /** The declared artifact's name. */
  @JsonPropertyDescription("Name of the artifact (steps[].artifacts[].name).")
  public String name;

  /** The file's path, relative to the working directory. */
  @JsonPropertyDescription("Path of the file relative to the job's working directory.")
  public String path;

  /** Bytes stored. */
  @JsonPropertyDescription("Size of the stored file in bytes.")
  public Long size;

  /** SHA-256 of the stored bytes. */
  @JsonPropertyDescription("SHA-256 of the stored file (hex), checked by the report API after the upload.")
  public String sha256;

  /** Why the file was not stored. */
  @JsonPropertyDescription("Set when the file was not stored: why (outside the working directory, a symlink escaping "
      + "it, over a limit, the upload failed or did not match its size and SHA-256).")
  public String error;
}
