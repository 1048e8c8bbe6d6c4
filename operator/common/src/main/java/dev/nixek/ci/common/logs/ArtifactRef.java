package dev.nixek.ci.common.logs;

import dev.nixek.ci.protocol.ArtifactPaths;

/**
 * One artifact file of a job: the step's index, the declared artifact's name and the file's path relative to the
 * working directory. Every part is checked when made ({@link ArtifactPaths}, {@link LogNames}), so the key or file
 * name made from it cannot leave the job's place in the store.
 */
public record ArtifactRef(JobLogs job, int step, String name, String path) {
  public ArtifactRef {
    LogNames.jobPath(job);
    if (step < 0) {
      throw new IllegalArgumentException("negative step index " + step);
    }
    ArtifactPaths.checkName(name).ifPresent(p -> {
      throw new IllegalArgumentException(p);
    });
    ArtifactPaths.checkPath(path).ifPresent(p -> {
      throw new IllegalArgumentException(p);
    });
  }

  /** {@code <step>/<name>/<path>}: where the file is below the job's {@code files/} or {@code pending/}. */
  String relative() {
    return step + "/" + name + "/" + path;
  }

  /** The path of the job in a store: {@code <namespace>/<name>/<uid>}. */
  String jobPath() {
    return LogNames.jobPath(job);
  }

  /** Parses {@code <step>/<name>/<path>} below a job's {@code files/}; null when it is not one. */
  static ArtifactRef parse(JobLogs job, String relative) {
    int a = relative.indexOf('/');
    int b = a < 0 ? -1 : relative.indexOf('/', a + 1);
    if (a <= 0 || b <= a + 1) {
      return null;
    }
    try {
      return new ArtifactRef(job, Integer.parseInt(relative.substring(0, a)), relative.substring(a + 1, b),
          relative.substring(b + 1));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
