package dev.nixek.ci.builder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Nix's own error message and position from its {@code --log-format internal-json} output on stderr: lines
 * {@code @nix {"action":"msg","level":0,"raw_msg":...,"file":...,"line":...,"column":...}}. Colours are removed
 * and paths that mean nothing to the job's author (the evaluation pod's job file, a flake's store copy) are
 * rewritten; when nix said nothing structured, the end of what it printed stands in.
 */
final class NixErrors {
  static final String PREFIX = "@nix ";
  static final int MAX_CHARS = 1000;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern ANSI = Pattern.compile("\u001B\\[[0-9;]*[A-Za-z]");
  /** A flake's source copied to the store: positions read better relative to the repository. */
  private static final Pattern FLAKE_SOURCE = Pattern.compile("/nix/store/[0-9a-df-np-sv-z]{32}-source/");
  private static final String SHOW_TRACE_HINT = "(use '--show-trace'";

  private final List<String> plain = new ArrayList<>();
  private String error;
  private final Map<String, String> rewrites;

  /** @param rewrites path prefixes (e.g. the job file) and what to show instead (e.g. {@code spec.nix}) */
  NixErrors(Map<String, String> rewrites) {
    this.rewrites = Map.copyOf(rewrites);
  }

  /**
   * Takes one stderr line; returns what a person should see of it in the pod log (null: nothing, e.g. nix's
   * activity messages).
   */
  String line(String line) {
    if (!line.startsWith(PREFIX)) {
      String text = clean(line);
      plain.add(text);
      return text;
    }
    JsonNode m;
    try {
      m = JSON.readTree(line.substring(PREFIX.length()));
    } catch (IOException e) {
      plain.add(clean(line));
      return clean(line);
    }
    if (!"msg".equals(m.path("action").asText())) {
      return null;
    }
    String msg = clean(m.path("msg").asText(""));
    if (m.path("level").asInt(99) == 0 && m.hasNonNull("raw_msg")) {
      String raw = clean(m.get("raw_msg").asText()).strip();
      if (m.hasNonNull("file") && m.path("line").asInt(0) > 0) {
        String position = ":" + m.get("line").asInt()
            + (m.path("column").asInt(0) > 0 ? ":" + m.get("column").asInt() : "");
        String file = m.get("file").asText();
        // Nix 2.26 puts the position into "file" too ("/job.nix:3:44"); 2.8 gave the path alone
        if (file.endsWith(position)) {
          file = file.substring(0, file.length() - position.length());
        }
        raw += " (at " + rewrite(file) + position + ")";
      }
      error = raw;
    }
    if (!msg.isBlank() && !msg.startsWith(SHOW_TRACE_HINT)) {
      plain.add(msg);
    }
    return msg.isBlank() ? null : msg;
  }

  /** The error nix reported, bounded; the end of its plain output when it reported none. */
  String error() {
    String e = error;
    if (e == null) {
      List<String> lines = plain.stream().filter(l -> !l.isBlank() && !l.startsWith(SHOW_TRACE_HINT)).toList();
      e = lines.isEmpty() ? "nix-instantiate failed without a message"
          : String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size())).strip();
      if (e.startsWith("error: ")) {
        e = e.substring("error: ".length());
      }
    }
    e = e.replaceAll("\\s*\\n\\s*", " ").strip();
    return e.length() > MAX_CHARS ? e.substring(0, MAX_CHARS - 1) + "…" : e;
  }

  private String clean(String s) {
    return rewrite(ANSI.matcher(s).replaceAll(""));
  }

  private String rewrite(String s) {
    String out = s;
    for (Map.Entry<String, String> r : rewrites.entrySet()) {
      out = out.replace(r.getKey(), r.getValue());
    }
    return FLAKE_SOURCE.matcher(out).replaceAll("");
  }
}
