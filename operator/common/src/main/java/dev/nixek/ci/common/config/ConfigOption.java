package dev.nixek.ci.common.config;

import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * One configuration option: an environment variable, its default and what it means. Parsing fails with a message
 * that names the option, so a bad value stops start-up with a message a user can act on.
 *
 * @param <T> the option's type
 */
public record ConfigOption<T>(String key, String defaultValue, String description, Function<String, T> parser) {
  public ConfigOption {
    Objects.requireNonNull(key);
    Objects.requireNonNull(description);
    Objects.requireNonNull(parser);
  }

  /** The option's value in {@code env}, or its default. */
  public T read(Map<String, String> env) {
    String raw = env.get(key);
    if (raw == null || raw.isBlank()) {
      raw = defaultValue;
    }
    try {
      return parser.apply(raw == null ? null : raw.trim());
    } catch (RuntimeException e) {
      throw new ConfigException(key + "=" + (raw == null ? "<unset>" : "'" + raw + "'") + ": " + e.getMessage()
          + " (" + description + ")", e);
    }
  }
}
