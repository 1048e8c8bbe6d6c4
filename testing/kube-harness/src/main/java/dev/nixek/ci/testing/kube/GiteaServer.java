package dev.nixek.ci.testing.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Gitea (built by {@code hack/build-gitea.sh} into the binary directory) on 127.0.0.1, a free port and a
 * temporary directory, with SQLite, offline, and a webhook allow-list that lets it deliver to loopback: the forge the
 * repository, webhook and commit-status tests push to. One admin user and its API token are made with Gitea's own CLI
 * before the server starts. Missing, the binary fails the test under {@code CI=true} and aborts it otherwise (as
 * {@link TestBinaries} does for the API server).
 *
 * <p>Git runs as a child process with the token in its environment ({@code GIT_CONFIG_*}), never in a command line or
 * a remote URL, so it is in no {@code ps} listing and no stored git config.
 */
public final class GiteaServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GiteaServer.class);
  public static final String BUILD_SCRIPT = "hack/build-gitea.sh";
  /** The admin user that owns every repository the tests create. */
  public static final String USER = "nixek";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path binary;
  private final Path dir;
  private final Path config;
  private final int port;
  private final String token;
  private final String password;
  private final Process process;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** A repository on this Gitea: its owner, name and URLs. */
  public record Repo(String owner, String name, String cloneUrl, String htmlUrl) {
    public String fullName() {
      return owner + "/" + name;
    }
  }

  /** One commit status as Gitea's API shows it. */
  public record CommitStatus(String context, String state, String description, String targetUrl) {}

  private GiteaServer(Path binary, Path dir, Path config, int port, String token, String password, Process process) {
    this.binary = binary;
    this.dir = dir;
    this.config = config;
    this.port = port;
    this.token = token;
    this.password = password;
    this.process = process;
  }

  /** Starts a Gitea in a new temporary directory; {@link #close} stops it and deletes the directory. */
  public static GiteaServer start() {
    Path binary = locate();
    Path assets = binary.resolveSibling("gitea-assets");
    if (!Files.isDirectory(assets.resolve("options"))) {
      missing(assets + " (Gitea's templates and options) is missing");
    }
    Path dir;
    try {
      dir = Files.createTempDirectory("nixek-gitea-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int port = freePort();
    Path config = dir.resolve("app.ini");
    String password = randomHex(16);
    Process process = null;
    try {
      Files.writeString(config, appIni(dir, assets, port));
      Map<String, String> env = env(dir);
      // the schema first, then the admin user and its token: all before the server holds the database
      cli(binary, env, config, "migrate");
      cli(binary, env, config, "admin", "user", "create", "--username", USER, "--password", password,
          "--email", USER + "@example.invalid", "--admin", "--must-change-password=false");
      String token = cli(binary, env, config, "admin", "user", "generate-access-token", "--username", USER,
          "--token-name", "nixek-tests", "--scopes", "all", "--raw").stdout().strip();
      if (!token.matches("[0-9a-f]{40}")) {
        throw new IllegalStateException("gitea generate-access-token printed no token: " + token);
      }
      process = Processes.startDetached(List.of(binary.toString(), "web", "--config", config.toString(),
          "--work-path", dir.toString()), dir, env, dir.resolve("gitea.log"));
      GiteaServer server = new GiteaServer(binary, dir, config, port, token, password, process);
      server.awaitReady();
      LOG.info("Gitea on {} (dir {})", server.url(), dir);
      return server;
    } catch (IOException | RuntimeException e) {
      String log = Processes.tail(dir.resolve("gitea.log"), 40, 8192);
      if (process != null) {
        Processes.stopTree(process.toHandle(), Processes.ownGroup(), Duration.ofSeconds(5));
      }
      Processes.deleteTree(dir);
      throw new IllegalStateException("cannot start Gitea: " + e.getMessage() + "\n--- gitea.log\n" + log, e);
    }
  }

  private static Path locate() {
    TestBinaries bins = TestBinaries.locate();
    Optional<String> problem = bins.missing("gitea");
    if (problem.isPresent()) {
      missing(problem.get());
    }
    return bins.binDir().resolve("gitea");
  }

  private static void missing(String problem) {
    String message = problem + ": run " + BUILD_SCRIPT;
    if (TestBinaries.isCi()) {
      throw new IllegalStateException(message + " [CI=true: failing instead of skipping]");
    }
    Assumptions.abort(message);
  }

  static String appIni(Path dir, Path assets, int port) {
    String user = System.getProperty("user.name");
    StringBuilder ini = new StringBuilder();
    ini.append("APP_NAME = nixek-ci test forge\nRUN_MODE = prod\nRUN_USER = ").append(user).append('\n')
        .append("WORK_PATH = ").append(dir).append('\n');
    if ("root".equals(user)) {
      // CI runs the tests as root; Gitea refuses that unless told it is meant
      ini.append("I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true\n");
    }
    ini.append("\n[server]\nPROTOCOL = http\nHTTP_ADDR = 127.0.0.1\nHTTP_PORT = ").append(port).append('\n')
        .append("DOMAIN = 127.0.0.1\nROOT_URL = http://127.0.0.1:").append(port).append("/\n")
        .append("DISABLE_SSH = true\nSTART_SSH_SERVER = false\nOFFLINE_MODE = true\nLFS_START_SERVER = false\n")
        .append("STATIC_ROOT_PATH = ").append(assets).append('\n')
        .append("APP_DATA_PATH = ").append(dir.resolve("data")).append('\n')
        .append("\n[database]\nDB_TYPE = sqlite3\nPATH = ").append(dir.resolve("gitea.db")).append('\n')
        .append("SQLITE_JOURNAL_MODE = WAL\n")
        .append("\n[repository]\nROOT = ").append(dir.resolve("repos")).append("\nDEFAULT_BRANCH = main\n")
        .append("\n[security]\nINSTALL_LOCK = true\nSECRET_KEY = ").append(randomHex(32)).append('\n')
        .append("INTERNAL_TOKEN = ").append(internalToken()).append('\n')
        // the default (argon2) costs seconds of CPU per login on a busy machine; this is a test forge
        .append("PASSWORD_HASH_ALGO = pbkdf2\n")
        .append("\n[service]\nDISABLE_REGISTRATION = true\nENABLE_NOTIFY_MAIL = false\n")
        .append("\n[mailer]\nENABLED = false\n")
        .append("\n[webhook]\n")
        // loopback: the report API under test listens on 127.0.0.1, which Gitea refuses by default
        .append("ALLOWED_HOST_LIST = loopback\nDELIVER_TIMEOUT = 5\nSKIP_TLS_VERIFY = false\n")
        .append("\n[session]\nPROVIDER = memory\n")
        .append("\n[cache]\nADAPTER = memory\n")
        .append("\n[indexer]\nISSUE_INDEXER_TYPE = db\nREPO_INDEXER_ENABLED = false\n")
        .append("\n[actions]\nENABLED = false\n")
        .append("\n[cron]\nENABLED = false\n")
        .append("\n[cron.update_checker]\nENABLED = false\n")
        .append("\n[log]\nMODE = console\nLEVEL = Info\nROOT_PATH = ").append(dir.resolve("log")).append('\n');
    return ini.toString();
  }

  /** A JWT-shaped secret Gitea accepts as its internal token (it only checks the length and character set). */
  private static String internalToken() {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(randomHex(48).getBytes(StandardCharsets.US_ASCII));
  }

  private static Map<String, String> env(Path dir) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    env.put("HOME", dir.toString());
    env.put("USER", System.getProperty("user.name"));
    env.put("GITEA_WORK_DIR", dir.toString());
    env.put("GIT_CONFIG_NOSYSTEM", "1");
    return env;
  }

  private static CommandResult cli(Path binary, Map<String, String> env, Path config, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary.toString());
    cmd.addAll(List.of(args));
    cmd.add("--config");
    cmd.add(config.toString());
    cmd.add("--work-path");
    cmd.add(config.getParent().toString());
    CommandResult r = Processes.run(cmd, env, null, Duration.ofSeconds(120));
    if (!r.ok()) {
      // the password is the only secret in a command line here, and it is this test forge's
      throw new IllegalStateException("gitea " + String.join(" ", List.of(args).subList(0, Math.min(3, args.length)))
          + " exited " + r.exitCode() + "\n" + r.stdout() + r.stderr());
    }
    return r;
  }

  private void awaitReady() {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("gitea web exited " + process.exitValue());
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url() + "api/v1/version"))
            .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
        last = "HTTP " + r.statusCode();
      } catch (IOException e) {
        last = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      sleep(200);
    }
    throw new IllegalStateException("Gitea not ready after " + START_TIMEOUT.toSeconds() + " s: " + last);
  }

  /** The base URL, ending in a slash. */
  public String url() {
    return "http://127.0.0.1:" + port + "/";
  }

  /** The admin's API token (scope all). */
  public String token() {
    return token;
  }

  /** The working directory (its log is gitea.log). */
  public Path dir() {
    return dir;
  }

  /** The end of Gitea's log, for a failing test's message. */
  public String logTail() {
    return Processes.tail(dir.resolve("gitea.log"), 60, 16384);
  }

  /** Creates a repository of {@link #USER} with default branch {@code main}, empty (the tests push to it). */
  public Repo createRepo(String name, boolean isPrivate) {
    ObjectNode body = JSON.createObjectNode().put("name", name).put("private", isPrivate)
        .put("auto_init", false).put("default_branch", "main");
    JsonNode r = api("POST", "user/repos", body, 201);
    return new Repo(r.path("owner").path("login").asText(), r.path("name").asText(), r.path("clone_url").asText(),
        r.path("html_url").asText());
  }

  /**
   * Commits {@code files} (path to content, written over what is there) in {@code workTree} (a fresh clone target:
   * initialised on first use) on {@code branch}, and pushes it to {@code repo} over HTTP with the token.
   *
   * @return the commit's SHA
   */
  public String commitAndPush(Repo repo, Path workTree, String branch, Map<String, String> files, String message) {
    try {
      if (!Files.isDirectory(workTree.resolve(".git"))) {
        Files.createDirectories(workTree);
        git(workTree, "init", "-q", "-b", branch);
        git(workTree, "config", "user.name", "nixek test");
        git(workTree, "config", "user.email", "test@example.invalid");
        git(workTree, "remote", "add", "origin", repo.cloneUrl());
      } else {
        git(workTree, "checkout", "-q", "-B", branch);
      }
      for (Map.Entry<String, String> f : files.entrySet()) {
        Path p = workTree.resolve(f.getKey());
        Files.createDirectories(p.getParent());
        Files.writeString(p, f.getValue());
      }
      git(workTree, "add", "-A");
      git(workTree, "commit", "-q", "--allow-empty", "-m", message);
      push(workTree, "HEAD:refs/heads/" + branch);
      return git(workTree, "rev-parse", "HEAD").stdout().strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code git push origin <refspec>} with the token as HTTP basic credentials (in the environment only). */
  public void push(Path workTree, String refspec) {
    git(workTree, "push", "-q", "origin", refspec);
  }

  /** Runs git in {@code workTree} with this Gitea's credentials in its environment; fails on a non-zero exit. */
  public CommandResult git(Path workTree, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add("git");
    cmd.add("-C");
    cmd.add(workTree.toString());
    cmd.addAll(List.of(args));
    CommandResult r = Processes.run(cmd, gitEnv(), null, Duration.ofSeconds(120));
    if (!r.ok()) {
      throw new IllegalStateException("git " + String.join(" ", args) + " exited " + r.exitCode() + ": "
          + r.stderr().replace(token, "<token>"));
    }
    return r;
  }

  /** The environment that gives git this Gitea's credentials for HTTP without a credential helper or URL. */
  public Map<String, String> gitEnv() {
    String basic = Base64.getEncoder().encodeToString((USER + ":" + token).getBytes(StandardCharsets.UTF_8));
    Map<String, String> env = new LinkedHashMap<>();
    env.put("GIT_CONFIG_COUNT", "1");
    env.put("GIT_CONFIG_KEY_0", "http." + url() + ".extraHeader");
    env.put("GIT_CONFIG_VALUE_0", "Authorization: Basic " + basic);
    env.put("GIT_TERMINAL_PROMPT", "0");
    env.put("GIT_CONFIG_NOSYSTEM", "1");
    return env;
  }

  /**
   * Adds a webhook to {@code repo} delivering push and pull-request events as JSON to {@code url}, signed with
   * {@code secret}; {@code type} is {@code gitea} or {@code gogs}.
   *
   * @return the hook's id
   */
  public long addWebhook(Repo repo, String type, String url, String secret) {
    ObjectNode cfg = JSON.createObjectNode().put("url", url).put("content_type", "json").put("secret", secret);
    ObjectNode body = JSON.createObjectNode().put("type", type).put("active", true);
    body.set("config", cfg);
    body.putArray("events").add("push").add("pull_request");
    return api("POST", "repos/" + repo.fullName() + "/hooks", body, 201).path("id").asLong();
  }

  /** Turns delivery of hook {@code id} on or off. */
  public void setWebhookActive(Repo repo, long id, boolean active) {
    api("PATCH", "repos/" + repo.fullName() + "/hooks/" + id, JSON.createObjectNode().put("active", active), 200);
  }

  /** Asks Gitea to deliver a test push event of hook {@code id} now. */
  public void testWebhook(Repo repo, long id) {
    api("POST", "repos/" + repo.fullName() + "/hooks/" + id + "/tests", null, 204);
  }

  /** The statuses of {@code sha}, newest first, as Gitea's API lists them. */
  public List<CommitStatus> statuses(Repo repo, String sha) {
    JsonNode r = api("GET", "repos/" + repo.fullName() + "/statuses/" + sha + "?limit=50", null, 200);
    List<CommitStatus> out = new ArrayList<>();
    for (JsonNode s : r) {
      out.add(new CommitStatus(s.path("context").asText(), s.path("status").asText(),
          s.path("description").asText(), s.path("target_url").asText()));
    }
    return out;
  }

  /**
   * One API call with the token; fails unless the answer has status {@code expected}.
   *
   * @param path below {@code /api/v1/}
   */
  public JsonNode api(String method, String path, JsonNode body, int expected) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url() + "api/v1/" + path))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "token " + token)
        .header("Accept", "application/json");
    if (body != null) {
      b.header("Content-Type", "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != expected) {
        throw new IllegalStateException("Gitea " + method + " /api/v1/" + path + ": HTTP " + r.statusCode()
            + " (expected " + expected + "): " + r.body());
      }
      return r.body().isBlank() ? JSON.nullNode() : JSON.readTree(r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** The admin's password (for a test that checks basic auth). */
  String password() {
    return password;
  }

  @Override
  public void close() {
    Processes.stopTree(process.toHandle(), Processes.ownGroup(), Duration.ofSeconds(10));
    Processes.deleteTree(dir);
  }

  private static int freePort() {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String randomHex(int bytes) {
    byte[] b = new byte[bytes];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** For tests of this class: the binary and config it runs with. */
  Path binary() {
    return binary;
  }

  Path config() {
    return config;
  }
}
