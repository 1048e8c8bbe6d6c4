package dev.nixek.ci.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.testing.kube.TestBinaries;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The judges GitOps tools put on our objects, run for real on an object's JSON: Argo CD's health check (the chart's
 * {@code files/health/<kind>.lua}) under Debian's {@code lua5.4}, and kstatus (sigs.k8s.io/cli-utils, as Flux and kpt
 * use it) through {@code hack/kstatus-check} built into the binary directory. Under {@code CI=true} a missing tool
 * fails the test; otherwise it is skipped saying how to install it.
 */
final class HealthJudges {
  static final Path HEALTH = ManifestsIT.HOME.resolve("charts/nixek-ci/files/health");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A judge's verdict: Argo CD's health status or kstatus's status, and the message that comes with it. */
  record Verdict(String status, String message) {}

  private HealthJudges() {}

  /** Argo CD's verdict: the kind's health script run with {@code obj} set to the object, as Argo CD runs it. */
  static Verdict argo(String json) {
    Path lua = tool("lua5.4", onPath("lua5.4"), "apt-get install lua5.4 (test.sh does)");
    try {
      JsonNode obj = JSON.readTree(json);
      Path script = HEALTH.resolve(obj.path("kind").asText().toLowerCase(java.util.Locale.ROOT) + ".lua");
      if (!Files.isRegularFile(script)) {
        throw new IllegalArgumentException("no health check for kind " + obj.path("kind").asText() + " at " + script);
      }
      Path program = Files.createTempFile("health", ".lua");
      try {
        Files.writeString(program, "obj = " + luaTable(obj) + "\nlocal hs = dofile(" + luaString(script.toString())
            + ")\nio.write(hs.status, \"\\n\", hs.message or \"\")\n", StandardCharsets.UTF_8);
        String out = run(List.of(lua.toString(), program.toString()), null);
        int nl = out.indexOf('\n');
        return new Verdict(out.substring(0, nl), out.substring(nl + 1));
      } finally {
        Files.deleteIfExists(program);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** kstatus's verdict (InProgress, Current, Failed, ...) on the object. */
  static Verdict kstatus(String json) {
    Path bin = TestBinaries.locate().require("kstatus-check");
    String out = run(List.of(bin.toString()), json).strip();
    int tab = out.indexOf('\t');
    return new Verdict(out.substring(0, tab), out.substring(tab + 1));
  }

  /** The JSON value as a Lua table constructor (objects keyed by string, arrays 1-based, null as nil). */
  static String luaTable(JsonNode n) {
    if (n.isObject()) {
      StringBuilder b = new StringBuilder("{");
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        b.append('[').append(luaString(e.getKey())).append("]=").append(luaTable(e.getValue())).append(',');
      }
      return b.append('}').toString();
    }
    if (n.isArray()) {
      StringBuilder b = new StringBuilder("{");
      for (JsonNode e : n) {
        b.append(luaTable(e)).append(',');
      }
      return b.append('}').toString();
    }
    if (n.isTextual()) {
      return luaString(n.asText());
    }
    if (n.isNumber() || n.isBoolean()) {
      return n.asText();
    }
    return "nil";
  }

  /** A Lua string literal of {@code s}: UTF-8 as is, quote, backslash and control characters as decimal escapes. */
  static String luaString(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
        b.append(String.format("\\%03d", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  private static Optional<Path> onPath(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private static Path tool(String name, Optional<Path> found, String how) {
    if (found.isPresent()) {
      return found.get();
    }
    String message = name + " not found: " + how;
    if (TestBinaries.isCi()) {
      throw new IllegalStateException(message + " [CI=true: failing instead of skipping]");
    }
    Assumptions.abort(message);
    throw new AssertionError("unreachable");
  }

  private static String run(List<String> cmd, String stdin) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException(cmd + " failed: " + new String(out, StandardCharsets.UTF_8));
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
