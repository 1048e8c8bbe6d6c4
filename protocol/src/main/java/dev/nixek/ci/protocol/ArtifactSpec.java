package dev.nixek.ci.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Files a step keeps (docs/artifacts.md): a name and the globs, relative to the job's working directory, whose
 * matching regular files are uploaded after the step. Checked by {@link ArtifactPaths}.
 *
 * @param name the artifact's name, unique in the step ({@link ArtifactPaths#NAME})
 * @param paths globs such as {@code dist/*.tar.gz} or {@code reports/**}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ArtifactSpec(String name, List<String> paths) {
  public ArtifactSpec {
    paths = paths == null ? null : List.copyOf(paths);
  }
}
