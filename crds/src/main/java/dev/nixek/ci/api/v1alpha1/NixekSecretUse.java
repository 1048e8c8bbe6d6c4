package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * A Secret value a job's steps get (docs/secrets.md): as an environment variable or as a file, fetched by the agent at
 * run time, never in the agent's config, the job's spec or status in clear.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekSecretUse {
  /** An environment variable name; also what a file is called in the job's secrets directory. */
  public static final String NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$";
  /** The variable (or file) name's longest form. */
  public static final int NAME_MAX = 128;
  public static final String AS_ENV = "env";
  public static final String AS_FILE = "file";

  @JsonPropertyDescription("Name of the environment variable (as: env) or of the file in the directory "
      + "$NIXEK_SECRETS_DIR (as: file): letters, digits and '_', not starting with a digit.")
  @Required
  @Size(min = 1, max = NAME_MAX)
  @Pattern(NAME_PATTERN)
  public String name;

  @JsonPropertyDescription("The Secret and key the value comes from.")
  @Required
  public NixekSecretKeyRef secretRef;

  @JsonPropertyDescription("How the step gets the value: env (an environment variable; the default) or file (a file "
      + "of mode 0400 owned by the step's user in $NIXEK_SECRETS_DIR, outside the working directory, removed after "
      + "the job).")
  @Pattern("^(env|file)$")
  public String as;

  public NixekSecretUse() {}

  public NixekSecretUse(String name, NixekSecretKeyRef secretRef, String as) {
    this.name = name;
    this.secretRef = secretRef;
    this.as = as;
  }

  /** {@code as}, with its default. */
  @com.fasterxml.jackson.annotation.JsonIgnore
  public String asOrDefault() {
    return as == null ? AS_ENV : as;
  }
}
