package dev.nixek.ci.operator.repository;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Lists a repository's heads with the git CLI: {@code git ls-remote --symref <url> HEAD refs/heads/* refs/pull/}*
 * {@code /head}. git runs with an environment of its own (no system or global config, no prompt, no credential
 * helper, only the allowed transports) and a deadline. A token is passed as an HTTP header scoped to the
 * repository's URL through {@code GIT_CONFIG_COUNT}/{@code GIT_CONFIG_KEY_0}/{@code GIT_CONFIG_VALUE_0}: never in
 * the arguments (visible in the process table) nor in a file, and git does not print it.
 */
public final class LsRemote {
  static final Duration TIMEOUT = Duration.ofSeconds(60);
  static final int MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
  static final int MAX_ERROR_CHARS = 600;
  private static final Pattern SHA = Pattern.compile("^([0-9a-f]{40}|[0-9a-f]{64})$");

  /** What the remote has: its default branch (from HEAD's symref, null if it did not say) and ref → commit. */
  public record Heads(String defaultBranch, Map<String, String> refs) {}

  /** git failed or timed out; the message is git's (bounded, without the token). */
  public static final class Failure extends Exception {
    public Failure(String message) {
      super(message);
    }
  }

  private final String git;
  private final boolean allowFile;

  public LsRemote(String git, boolean allowFile) {
    this.git = git;
    this.allowFile = allowFile;
  }

  /** The heads of {@code url}; {@code token} null for none. */
  public Heads list(String url, String token) throws Failure, InterruptedException {
    List<String> argv = List.of(git, "ls-remote", "--symref", "--", url, "HEAD", "refs/heads/*", "refs/pull/*/head");
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.environment().clear();
    pb.environment().putAll(environment(url, token, allowFile, System.getenv()));
    pb.redirectInput(new File("/dev/null"));
    pb.redirectErrorStream(false);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new Failure("cannot run " + git + ": " + e.getMessage());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread o = pump(p.getInputStream(), out, MAX_OUTPUT_BYTES);
    Thread e = pump(p.getErrorStream(), err, 64 * 1024);
    boolean done = p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly();
      throw new Failure("git ls-remote " + url + " did not answer within " + TIMEOUT.toSeconds() + " s");
    }
    o.join();
    e.join();
    String stderr = redact(err.toString(StandardCharsets.UTF_8), token);
    if (p.exitValue() != 0) {
      throw new Failure("git ls-remote " + url + " failed (exit " + p.exitValue() + "): " + bounded(stderr));
    }
    if (out.size() >= MAX_OUTPUT_BYTES) {
      throw new Failure("git ls-remote " + url + " listed more than " + MAX_OUTPUT_BYTES + " bytes of refs");
    }
    return parse(out.toString(StandardCharsets.UTF_8));
  }

  /** The lines of {@code git ls-remote --symref}: {@code ref: refs/heads/x\tHEAD} and {@code <sha>\t<ref>}. */
  public static Heads parse(String output) {
    String defaultBranch = null;
    Map<String, String> refs = new LinkedHashMap<>();
    for (String line : output.split("\n")) {
      int tab = line.indexOf('\t');
      if (tab < 0) {
        continue;
      }
      String left = line.substring(0, tab).strip();
      String ref = line.substring(tab + 1).strip();
      if (left.startsWith("ref: ") && ref.equals("HEAD")) {
        String target = left.substring("ref: ".length()).strip();
        defaultBranch = RefRules.branch(target).orElse(null);
      } else if (SHA.matcher(left).matches() && !ref.equals("HEAD") && !ref.endsWith("^{}")) {
        refs.put(ref, left);
      }
    }
    return new Heads(defaultBranch, refs);
  }

  /**
   * git's environment: PATH and HOME from the operator (HOME only so git finds no ~/.gitconfig it would read: the
   * global config is /dev/null anyway), no prompts, only the allowed transports, and the token as a header for
   * this URL's prefix.
   */
  static Map<String, String> environment(String url, String token, boolean allowFile, Map<String, String> parent) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", parent.getOrDefault("PATH", "/usr/bin:/bin"));
    env.put("HOME", parent.getOrDefault("HOME", "/tmp"));
    env.put("LANG", "C");
    env.put("LC_ALL", "C");
    env.put("GIT_TERMINAL_PROMPT", "0");
    env.put("GIT_ASKPASS", "/bin/false");
    env.put("SSH_ASKPASS", "/bin/false");
    env.put("GIT_CONFIG_NOSYSTEM", "1");
    env.put("GIT_CONFIG_GLOBAL", "/dev/null");
    env.put("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new");
    env.put("GIT_ALLOW_PROTOCOL", allowFile ? "https:http:ssh:file" : "https:http:ssh");
    List<String[]> config = new ArrayList<>();
    config.add(new String[] {"credential.helper", ""});
    if (token != null && (url.startsWith("https://") || url.startsWith("http://"))) {
      String basic = Base64.getEncoder().encodeToString(("x-access-token:" + token).getBytes(StandardCharsets.UTF_8));
      config.add(new String[] {"http." + prefix(url) + ".extraHeader", "Authorization: Basic " + basic});
    }
    env.put("GIT_CONFIG_COUNT", Integer.toString(config.size()));
    for (int i = 0; i < config.size(); i++) {
      env.put("GIT_CONFIG_KEY_" + i, config.get(i)[0]);
      env.put("GIT_CONFIG_VALUE_" + i, config.get(i)[1]);
    }
    return env;
  }

  /** The scheme, host and port of {@code url}, the prefix git's {@code http.<url>.*} settings match on. */
  static String prefix(String url) {
    URI u = URI.create(url);
    return u.getScheme() + "://" + u.getRawAuthority() + "/";
  }

  static String redact(String text, String token) {
    if (token == null || token.isEmpty()) {
      return text;
    }
    String basic = Base64.getEncoder().encodeToString(("x-access-token:" + token).getBytes(StandardCharsets.UTF_8));
    return text.replace(token, "<token>").replace(basic, "<token>");
  }

  private static String bounded(String stderr) {
    String s = stderr.strip().replaceAll("\\s*\\n\\s*", " | ");
    return s.length() > MAX_ERROR_CHARS ? s.substring(0, MAX_ERROR_CHARS - 1) + "…" : s;
  }

  private static Thread pump(InputStream in, ByteArrayOutputStream into, int max) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[8192];
      try (in) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          if (into.size() < max) {
            into.write(buffer, 0, Math.min(n, max - into.size()));
          }
        }
      } catch (IOException e) {
        // the exit code says what went wrong
      }
    }, "git-ls-remote");
    t.setDaemon(true);
    t.start();
    return t;
  }
}
