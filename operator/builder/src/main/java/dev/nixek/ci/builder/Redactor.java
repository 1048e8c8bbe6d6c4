package dev.nixek.ci.builder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Removes secret values from text bound for the pod log or the termination message (which anyone who can
 * {@code kubectl get pod} reads). The builder never prints credentials itself; this catches an SDK or build
 * error message that quotes one.
 */
public final class Redactor {
  static final String MASK = "[redacted]";
  /** Short values would mask innocent substrings; real secrets are long. */
  private static final int MIN_SECRET_LENGTH = 8;
  private static final List<String> SECRET_ENV = List.of("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN");
  private static final List<String> SECRET_PROPERTIES = List.of("aws.secretAccessKey", "aws.sessionToken");

  private final List<String> secrets;

  Redactor(List<String> secrets) {
    this.secrets = secrets.stream().filter(s -> s != null && s.length() >= MIN_SECRET_LENGTH).toList();
  }

  /** The secrets the AWS SDK default chain may read from this process's environment and system properties. */
  public static Redactor fromEnvironment(Map<String, String> env) {
    List<String> secrets = new ArrayList<>();
    SECRET_ENV.forEach(name -> secrets.add(env.get(name)));
    SECRET_PROPERTIES.forEach(name -> secrets.add(System.getProperty(name)));
    return new Redactor(secrets);
  }

  /** This redactor, also masking {@code secret} (e.g. a token read from a file). */
  public Redactor with(String secret) {
    List<String> all = new ArrayList<>(secrets);
    all.add(secret);
    return new Redactor(all);
  }

  public String redact(String text) {
    if (text == null) {
      return null;
    }
    String result = text;
    for (String secret : secrets) {
      result = result.replace(secret, MASK);
    }
    return result;
  }
}
