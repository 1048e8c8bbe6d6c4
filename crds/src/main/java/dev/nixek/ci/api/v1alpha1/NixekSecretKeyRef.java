package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** One key of a Secret in the object's own namespace. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekSecretKeyRef {
  /** The Secret's name. */
  @JsonPropertyDescription("Name of the Secret, in the same namespace.")
  @Required
  @Size(min = 1, max = 253)
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  public String name;

  /** The key within the Secret's data. */
  @JsonPropertyDescription("Key in the Secret's data.")
  @Required
  @Size(min = 1, max = 253)
  @Pattern("^[-._a-zA-Z0-9]+$")
  public String key;

  public NixekSecretKeyRef() {}

  public NixekSecretKeyRef(String name, String key) {
    this.name = name;
    this.key = key;
  }
}
