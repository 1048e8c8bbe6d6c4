package dev.nixek.ci.protocol;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * A secret value a step gets: its variable (or file) {@code name}, the {@code ref} ({@code secret/key}) the agent
 * finds its value under in {@link JobSecrets}, and {@code as} ({@code env} or {@code file}). Names only: the value is
 * fetched at run time (docs/secrets.md).
 */
public record StepSecret(String name, String ref, String as) {
  public static final String ENV = "env";
  public static final String FILE = "file";

  @JsonIgnore
  public boolean isFile() {
    return FILE.equals(as);
  }
}
