package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/** Files a step keeps: uploaded after it by the agent (docs/artifacts.md). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekJobArtifact {
  private static final String CH = "[^/\\\\\\x00-\\x1f\\x7f]";
  private static final String NOT_DOT = "[^/.\\\\\\x00-\\x1f\\x7f]";
  private static final String SEGMENT = "(" + NOT_DOT + CH + "*|[.]" + NOT_DOT + CH + "*|[.][.]" + CH + "+)";

  /** The artifact's name, unique in the step. */
  @JsonPropertyDescription("Name of the artifact, unique within the step: 1-100 of A-Z, a-z, 0-9, '.', '_', '-', "
      + "starting with a letter or digit. kubectl nixek artifacts JOB NAME downloads its files.")
  @Required
  @Pattern("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
  public String name;

  /** Globs of the files to keep, relative to the working directory. */
  @JsonPropertyDescription("Globs, relative to the job's working directory, of the regular files to upload after the "
      + "step (succeeded or failed): '*' matches within a directory, '**' across directories, e.g. 'dist/*.tar.gz' "
      + "or 'reports/**'. A match outside the working directory (a symlink escaping it) is refused, not uploaded.")
  @Required
  @Size(min = 1, max = 16)
  public List<@Size(min = 1, max = 1024) @Pattern(PATH_PATTERN) String> paths;

  /**
   * A relative path of segments that are neither empty, '.' nor '..', without backslash or control characters. A
   * pattern, not a CEL rule: a rule over every path of every step of up to 1,000 steps exceeds the API server's cost
   * budget, a pattern has none. RE2 has no lookahead, so "not '.' or '..'" is spelled out: a segment starts with a
   * character other than '.', or is '.' and one such character, or is '..' and at least one more character.
   */
  public static final String PATH_PATTERN = "^" + SEGMENT + "(/" + SEGMENT + ")*$";
}
