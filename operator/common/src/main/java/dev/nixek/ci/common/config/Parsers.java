package dev.nixek.ci.common.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** Value parsers for {@link ConfigOption}s; each throws with a message that says what is expected. */
public final class Parsers {
  private Parsers() {}

  public static Function<String, String> string() {
    return s -> s == null ? "" : s;
  }

  public static Function<String, String> required() {
    return s -> {
      if (s == null || s.isEmpty()) {
        throw new IllegalArgumentException("a value is required");
      }
      return s;
    };
  }

  public static Function<String, Integer> intRange(int min, int max) {
    return s -> {
      int v;
      try {
        v = Integer.parseInt(s);
      } catch (NumberFormatException | NullPointerException e) {
        throw new IllegalArgumentException("expected an integer");
      }
      if (v < min || v > max) {
        throw new IllegalArgumentException("expected an integer from " + min + " to " + max);
      }
      return v;
    };
  }

  public static Function<String, Duration> seconds(long min, long max) {
    return s -> {
      long v;
      try {
        v = Long.parseLong(s);
      } catch (NumberFormatException | NullPointerException e) {
        throw new IllegalArgumentException("expected a number of seconds");
      }
      if (v < min || v > max) {
        throw new IllegalArgumentException("expected seconds from " + min + " to " + max);
      }
      return Duration.ofSeconds(v);
    };
  }

  public static Function<String, Boolean> bool() {
    return s -> switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException("expected true or false");
    };
  }

  public static <E extends Enum<E>> Function<String, E> oneOf(Class<E> type) {
    return s -> {
      for (E e : type.getEnumConstants()) {
        if (e.name().equalsIgnoreCase(s)) {
          return e;
        }
      }
      throw new IllegalArgumentException("expected one of " + Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT));
    };
  }

  public static Function<String, URI> httpUrl() {
    return s -> {
      try {
        URI u = new URI(s);
        if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
          throw new IllegalArgumentException("expected an http(s) URL with a host");
        }
        return u;
      } catch (URISyntaxException | NullPointerException e) {
        throw new IllegalArgumentException("expected an http(s) URL");
      }
    };
  }

  public static Function<String, List<String>> list() {
    return s -> s == null || s.isBlank() ? List.of()
        : Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
  }

  /** A command line split on whitespace (no quoting: paths with spaces are not supported). */
  public static Function<String, List<String>> command() {
    return s -> {
      List<String> argv = s == null ? List.of() : Arrays.stream(s.trim().split("\\s+")).filter(x -> !x.isEmpty()).toList();
      if (argv.isEmpty()) {
        throw new IllegalArgumentException("expected a command");
      }
      return argv;
    };
  }

  /** A Kubernetes resource quantity such as {@code 500m}, {@code 2} or {@code 4Gi}; {@code none} gives "". */
  public static Function<String, String> quantity() {
    Function<String, String> q = matching("[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?",
        "a quantity like 500m, 2 or 4Gi, or none", false);
    return s -> "none".equals(s) ? "" : q.apply(s);
  }

  public static Function<String, Path> path() {
    return s -> {
      if (s == null || s.isEmpty()) {
        throw new IllegalArgumentException("expected a path");
      }
      return Path.of(s);
    };
  }

  /** A DNS-1123 label, as Kubernetes names and label values use. */
  public static Function<String, String> dnsLabel() {
    return s -> {
      if (s == null || !s.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
        throw new IllegalArgumentException("expected a lower-case DNS label (a-z, 0-9, '-', at most 63)");
      }
      return s;
    };
  }

  /**
   * Comma-separated DNS-1123 labels (e.g. namespaces), each trimmed and kept once, in order; empty for none. An empty
   * item between commas is an error rather than skipped: it is more likely a typo than meant.
   */
  public static Function<String, List<String>> dnsLabels() {
    Function<String, String> label = dnsLabel();
    return s -> {
      if (s == null || s.isBlank()) {
        return List.of();
      }
      List<String> out = new java.util.ArrayList<>();
      for (String item : s.split(",")) {
        String l = item.trim();
        try {
          label.apply(l);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("'" + l + "': " + e.getMessage());
        }
        if (!out.contains(l)) {
          out.add(l);
        }
      }
      return List.copyOf(out);
    };
  }

  /** An optional http(s) URL: empty when unset. */
  public static Function<String, java.util.Optional<URI>> optionalHttpUrl() {
    Function<String, URI> url = httpUrl();
    return s -> s == null || s.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(url.apply(s));
  }

  /** A comma-separated list of AWS resource ids that all start with {@code prefix} (e.g. {@code subnet-}). */
  public static Function<String, List<String>> awsIds(String prefix) {
    Function<String, List<String>> list = list();
    return s -> {
      List<String> ids = list.apply(s);
      for (String id : ids) {
        if (!id.matches(java.util.regex.Pattern.quote(prefix) + "[0-9a-f]{1,32}")) {
          throw new IllegalArgumentException("expected ids like " + prefix + "0123abcd, got '" + id + "'");
        }
      }
      return ids;
    };
  }

  /** A string matching {@code regex} (described by {@code what}), or empty when {@code optional}. */
  public static Function<String, String> matching(String regex, String what, boolean optional) {
    return s -> {
      if (s == null || s.isEmpty()) {
        if (optional) {
          return "";
        }
        throw new IllegalArgumentException("expected " + what);
      }
      if (!s.matches(regex)) {
        throw new IllegalArgumentException("expected " + what);
      }
      return s;
    };
  }
}
