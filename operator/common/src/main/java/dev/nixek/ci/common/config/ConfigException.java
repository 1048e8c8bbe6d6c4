package dev.nixek.ci.common.config;

/** A configuration value that cannot be used; the message names the option. Start-up fails with it. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
