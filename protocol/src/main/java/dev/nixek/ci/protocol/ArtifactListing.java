package dev.nixek.ci.protocol;

import java.util.List;

/**
 * The answer of {@code GET /v1/artifacts/<ns>/<job>}: every checked artifact file of the job in the store, in step
 * and path order (not bounded like the status list).
 */
public record ArtifactListing(List<Entry> files) {
  /** The user-facing base path of a job's artifacts. */
  public static String jobPath(String namespace, String name) {
    return "/v1/artifacts/" + namespace + "/" + name;
  }

  /** Where one file is downloaded: the artifact's name and path go in the query ({@code artifact}, {@code path}). */
  public static String filePath(String namespace, String name, int step) {
    return jobPath(namespace, name) + "/steps/" + step;
  }

  /** Response header of a download: the stored file's SHA-256 when the store knows it. */
  public static final String SHA256_HEADER = "X-Nixek-Artifact-Sha256";

  /**
   * One file.
   *
   * @param sha256 null when neither status nor the store's listing holds it
   */
  public record Entry(int step, String name, String path, long size, String sha256) {}

  public ArtifactListing {
    files = files == null ? List.of() : List.copyOf(files);
  }
}
