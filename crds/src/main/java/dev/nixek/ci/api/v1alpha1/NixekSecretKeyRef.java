package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** One key of a Secret in the object's own namespace. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekSecretKeyRef {
  /** A Secret's name: a DNS subdomain. */
  public static final String SECRET_NAME_PATTERN = "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$";
  /** A Secret's data key, as Kubernetes allows it. */
  public static final String KEY_PATTERN = "^[-._a-zA-Z0-9]+$";

  /** The Secret's name. */
  @JsonPropertyDescription("Name of the Secret, in the same namespace.")
  @Required
  @Size(min = 1, max = 253)
  @Pattern(SECRET_NAME_PATTERN)
  public String name;

  /** The key within the Secret's data. */
  @JsonPropertyDescription("Key in the Secret's data.")
  @Required
  @Size(min = 1, max = 253)
  @Pattern(KEY_PATTERN)
  public String key;

  public NixekSecretKeyRef() {}

  public NixekSecretKeyRef(String name, String key) {
    this.name = name;
    this.key = key;
  }

  /** The {@code secret/key} form Nix jobs write and the agent's protocol uses. */
  @com.fasterxml.jackson.annotation.JsonIgnore
  public String ref() {
    return name + "/" + key;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NixekSecretKeyRef r && java.util.Objects.equals(name, r.name)
        && java.util.Objects.equals(key, r.key);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(name, key);
  }
}
