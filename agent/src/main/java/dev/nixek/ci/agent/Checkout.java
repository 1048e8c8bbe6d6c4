package dev.nixek.ci.agent;

import dev.nixek.ci.protocol.AgentSource;
import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.CheckoutCredential;
import dev.nixek.ci.protocol.JobSecrets;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkout step (docs/repositories.md#source-checkout): the job's repository at exactly its commit, shallow
 * ({@code git init}, {@code git fetch --depth 1 origin <rev>}, {@code git checkout --detach <rev>}, submodules if
 * asked), into the steps' working directory, its output reported like any step's.
 *
 * <p>The repository's credential is fetched from the report API with the job token, just before git runs: one of
 * the job's sealed secret values ({@code GET .../secrets}) under the reserved ref
 * {@link CheckoutCredential#SECRET_REF}. It reaches git only through a git config file ({@code http.<scheme://host/>.extraHeader}, so that a submodule on another host
 * never gets it) in a directory only the agent can read, removed when the step ends; never through argv, the
 * environment or a URL. git runs as the agent, not as the step user, and the checkout is then given to the step
 * user. The step's output is masked for the token and the header value anyway
 * ({@link SecretMasks}: their base64 forms too).
 */
final class Checkout {
  private static final Logger LOG = LoggerFactory.getLogger(Checkout.class);
  /** How long the credential fetch is retried (report API unreachable, 5xx, a token the API does not know yet). */
  static final Duration CREDENTIAL_TIME = Duration.ofSeconds(60);

  /** Positional parameters: $1 url, $2 rev, $3 submodules (1 or 0), $4 the spool directory to exclude, if inside. */
  static final String SCRIPT = String.join("\n",
      "set -eu",
      "run() { printf '$ %s\\n' \"$*\"; \"$@\"; }",
      "run git init -q .",
      "git config remote.origin.url \"$1\"",
      "if [ -n \"$4\" ]; then printf '/%s/\\n' \"$4\" >> .git/info/exclude; fi",
      "run git fetch --depth 1 --no-tags origin \"$2\"",
      "run git checkout -q --detach \"$2\"",
      "head=$(git rev-parse HEAD)",
      "if [ \"$head\" != \"$2\" ]; then echo \"checked out $head, not $2\"; exit 1; fi",
      "if [ \"$3\" = 1 ]; then run git submodule update --init --recursive --depth 1; fi",
      "git log -1 --format='HEAD is now %H (%s)'",
      "");

  private final StepRunner runner;
  private final ReportClient client;
  private final String credentialPath;
  private final Path workDir;
  private final Path spoolDir;
  private final Optional<RunAs> runAs;
  private final Supplier<Backoff> backoff;

  Checkout(StepRunner runner, ReportClient client, String namespace, String name, Path workDir, Path spoolDir,
      Optional<RunAs> runAs, Supplier<Backoff> backoff) {
    this.runner = runner;
    this.client = client;
    this.credentialPath = ReportPaths.secrets(namespace, name);
    this.workDir = workDir;
    this.spoolDir = spoolDir;
    this.runAs = runAs;
    this.backoff = backoff;
  }

  StepRunner.Result run(int index, AgentStep step, OutputSpool spool) throws InterruptedException {
    AgentSource source = step.source();
    Optional<CheckoutCredential> credential;
    try {
      credential = sendsCredential(source.url()) ? fetchCredential() : Optional.empty();
    } catch (CredentialUnavailable e) {
      return fail(spool, "nixek-agent: cannot get the repository's credential from the report API: "
          + e.getMessage() + "\n");
    }
    Path privateDir = null;
    try {
      Path gitConfig = CheckoutCredential.privateGitConfig("nixek-checkout-", gitConfig(source.url(), credential));
      privateDir = gitConfig.getParent();

      Map<String, String> env = new LinkedHashMap<>();
      env.put("GIT_CONFIG_GLOBAL", gitConfig.toString());
      env.put("GIT_CONFIG_NOSYSTEM", "1");
      env.put("GIT_TERMINAL_PROMPT", "0");
      env.put("GIT_ASKPASS", "/bin/false");
      env.put("HOME", privateDir.toString());
      for (String trace : List.of("GIT_TRACE", "GIT_TRACE_CURL", "GIT_CURL_VERBOSE", "GIT_TRACE_PACKET",
          "GIT_TRACE2", "GIT_TRACE2_EVENT", "GIT_TRACE2_PERF")) {
        env.put(trace, "0"); // never print request headers
      }
      String spoolInside = spoolDir.startsWith(workDir) && !spoolDir.equals(workDir)
          ? workDir.relativize(spoolDir).toString() : "";
      List<String> argv = List.of("/bin/sh", "-c", SCRIPT, "checkout", source.url(), source.rev(),
          source.withSubmodules() ? "1" : "0", spoolInside);
      List<byte[]> secrets = new ArrayList<>();
      credential.ifPresent(c -> {
        secrets.add(c.token().getBytes(StandardCharsets.UTF_8));
        secrets.add(c.basic().getBytes(StandardCharsets.UTF_8));
      });
      StepRunner.Result result = runner.run(index, step.name(), argv, env, Map.of(), step.timeoutSeconds(), false,
          SecretMasks.of(secrets), spool);
      if (result.exitCode() == 0 && !result.timedOut() && !result.aborted() && runAs.isPresent()) {
        giveToStepUser(runAs.get());
      }
      return result;
    } catch (IOException e) {
      LOG.error("checkout: {}", e.toString());
      return fail(spool, "nixek-agent: checkout failed: " + e.getMessage() + "\n");
    } finally {
      if (privateDir != null) {
        deleteQuietly(privateDir);
      }
    }
  }

  /** Only over https (or plain http to this machine, as in tests): {@link CheckoutCredential#sentTo}. */
  static boolean sendsCredential(String url) {
    return CheckoutCredential.sentTo(url);
  }

  /** The git config the checkout's git reads instead of any user's or the system's. */
  static String gitConfig(String url, Optional<CheckoutCredential> credential) {
    StringBuilder c = new StringBuilder();
    // git runs as the agent in a directory the step user owns: that is the point, not an attack
    c.append("[safe]\n\tdirectory = *\n");
    c.append("[advice]\n\tdetachedHead = false\n");
    c.append("[init]\n\tdefaultBranch = main\n");
    if (url.startsWith("file://")) {
      // a local repository's submodules are local too (git refuses file:// submodules by default since 2.38.1)
      c.append("[protocol \"file\"]\n\tallow = always\n");
    }
    credential.ifPresent(cred -> c.append(cred.gitConfigSection(url)));
    return c.toString();
  }

  private Optional<CheckoutCredential> fetchCredential() throws InterruptedException, CredentialUnavailable {
    long deadline = System.nanoTime() + CREDENTIAL_TIME.toNanos();
    Backoff delays = backoff.get();
    while (true) {
      ReportClient.Got fetched = client.get(credentialPath);
      ReportClient.Result r = fetched.result();
      switch (r.verdict()) {
        case DELIVERED -> {
          byte[] token;
          try {
            token = Json.mapper().readValue(fetched.body(), JobSecrets.class).decoded()
                .get(CheckoutCredential.SECRET_REF);
          } catch (IOException | IllegalArgumentException e) {
            throw new CredentialUnavailable("the report API answered something that is not the job's secrets");
          }
          if (token == null) {
            LOG.info("checkout: the repository has no credential: cloning without one");
            return Optional.empty();
          }
          String t = new String(token, StandardCharsets.UTF_8).strip();
          if (t.isEmpty() || t.chars().anyMatch(ch -> ch < 0x21 || ch > 0x7e)) {
            throw new CredentialUnavailable("the repository's token is empty or not printable ASCII");
          }
          LOG.info("checkout: got the repository's credential");
          return Optional.of(new CheckoutCredential(CheckoutCredential.DEFAULT_USERNAME, t));
        }
        case REJECTED -> {
          if (r.status() == 404) {
            LOG.info("checkout: the repository has no credential: cloning without one");
            return Optional.empty();
          }
          throw new CredentialUnavailable("HTTP " + r.status() + " " + r.detail());
        }
        case JOB_REFUSED, RETRY -> {
          // a 401 may only mean that the report API has not seen this job's token record yet (TokenGrace)
          Duration delay = r.delayAfter(delays);
          if (System.nanoTime() + delay.toNanos() > deadline) {
            throw new CredentialUnavailable((r.status() == 0 ? "" : "HTTP " + r.status() + " ") + r.detail());
          }
          Thread.sleep(delay.toMillis());
        }
        default -> throw new IllegalStateException(r.verdict().toString());
      }
    }
  }

  /** The checkout belongs to the step user, except the agent's spool (other steps' undelivered output). */
  private void giveToStepUser(RunAs user) throws IOException {
    Files.walkFileTree(workDir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        if (dir.equals(spoolDir)) {
          return FileVisitResult.SKIP_SUBTREE;
        }
        own(dir);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        own(file);
        return FileVisitResult.CONTINUE;
      }

      private void own(Path p) throws IOException {
        Files.setAttribute(p, "unix:uid", (int) user.uid(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", (int) user.gid(), LinkOption.NOFOLLOW_LINKS);
      }
    });
  }

  private static StepRunner.Result fail(OutputSpool spool, String message) {
    byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
    try {
      spool.append(bytes, 0, bytes.length);
    } catch (IOException e) {
      LOG.warn("cannot write to the output spool: {}", e.toString());
    }
    spool.seal();
    return new StepRunner.Result(1, false, false);
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          LOG.warn("cannot delete {}: {}", p, e.toString());
        }
      });
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", dir, e.toString());
    }
  }

  private static final class CredentialUnavailable extends Exception {
    CredentialUnavailable(String message) {
      super(message, null, false, false);
    }
  }
}
