package dev.nixek.ci.cli;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.protocol.LogPaths;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code kubectl nixek}: the kubectl plugin of nixek-ci (docs/logs.md#reading-logs). With the user's kubeconfig
 * (fabric8's {@code Config.autoConfigure}: KUBECONFIG, contexts, tokens, OIDC, exec credential plugins) it reads the
 * job and sends the user's bearer token to the job's logs endpoint ({@code status.logs.url}, or {@code --server}).
 *
 * <pre>
 * kubectl nixek logs [-f] [-n NS] [--server URL] [--context CTX] [--kubeconfig FILE] JOB [STEP]
 * kubectl nixek get [-n NS] [--context CTX] [--kubeconfig FILE] [JOB]
 * kubectl nixek artifacts [-n NS] [--server URL] [-o DIR] [--context CTX] [--kubeconfig FILE] JOB [NAME]
 * </pre>
 *
 * <p>Exit codes: 0 the log was read (or the job listed), 1 it could not be (the message says why), 2 bad usage.
 */
public final class KubectlNixek {
  static final String USAGE = """
      usage: kubectl nixek logs [-f] [-n NAMESPACE] [--server URL] [--context CTX] [--kubeconfig FILE] JOB [STEP]
             kubectl nixek get [-n NAMESPACE] [--context CTX] [--kubeconfig FILE] [JOB]
             kubectl nixek artifacts [-n NAMESPACE] [--server URL] [-o DIR] [--context CTX] [--kubeconfig FILE]
                 JOB [NAME]

      logs   prints a step's full log (STEP: its name or index from 0; default: every step in order).
             -f follows: the stored bytes, then new ones as the step prints them, until the step ends.
             --server URL reads from this report API instead of the job's status.logs.url.
             Needs get on nixekjobs and nixekjobs/log (the view role has both once the chart is installed)
             and a bearer token in the kubeconfig: a client certificate alone cannot be checked.
      get    lists NixekJobs (or one) as kubectl get does.
      artifacts  lists the job's stored artifact files; with NAME downloads that artifact's files into DIR
             (default: the current directory) at their paths, checked against their SHA-256, never overwriting.
             Needs get on nixekjobs and nixekjobs/artifacts.
      """;
  /** While following a job not launched yet: how often its status is read for status.logs. */
  static final Duration LAUNCH_POLL = Duration.ofSeconds(1);

  private final OutputStream out;
  private final PrintStream err;

  KubectlNixek(OutputStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    OutputStream stdout = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 64 * 1024);
    int code = new KubectlNixek(stdout, System.err).run(args);
    try {
      stdout.flush();
    } catch (IOException e) {
      code = code == 0 ? 1 : code;
    }
    System.exit(code);
  }

  /** Runs one command with these streams (for tests and embedding, e.g. the demo); the exit code. */
  public static int run(OutputStream out, PrintStream err, String... args) {
    return new KubectlNixek(out, err).run(args);
  }

  /** Parsed options. */
  record Options(String command, boolean follow, String namespace, String server, String context, String kubeconfig,
      List<String> positional, String output) {
    Options(String command, boolean follow, String namespace, String server, String context, String kubeconfig,
        List<String> positional) {
      this(command, follow, namespace, server, context, kubeconfig, positional, null);
    }
  }

  static Options parse(String[] args) {
    if (args.length == 0) {
      throw new UsageException("a command is needed");
    }
    String command = args[0];
    boolean follow = false;
    String namespace = null;
    String server = null;
    String context = null;
    String kubeconfig = null;
    String output = null;
    List<String> positional = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "-f", "--follow" -> follow = true;
        case "-n", "--namespace" -> namespace = value(args, ++i, a);
        case "--server" -> server = value(args, ++i, a);
        case "--context" -> context = value(args, ++i, a);
        case "--kubeconfig" -> kubeconfig = value(args, ++i, a);
        case "-o", "--output" -> output = value(args, ++i, a);
        default -> {
          if (a.startsWith("--namespace=")) {
            namespace = a.substring("--namespace=".length());
          } else if (a.startsWith("--server=")) {
            server = a.substring("--server=".length());
          } else if (a.startsWith("--context=")) {
            context = a.substring("--context=".length());
          } else if (a.startsWith("--kubeconfig=")) {
            kubeconfig = a.substring("--kubeconfig=".length());
          } else if (a.startsWith("-") && !a.equals("-")) {
            throw new UsageException("unknown option " + a);
          } else {
            positional.add(a);
          }
        }
      }
    }
    return new Options(command, follow, namespace, server, context, kubeconfig, positional, output);
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new UsageException(option + " needs a value");
    }
    return args[i];
  }

  /** Bad usage: exit 2 with the usage text. */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  /** Runs one command; the exit code. */
  int run(String[] args) {
    Options o;
    try {
      if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help"))) {
        err.print(USAGE);
        return 0;
      }
      o = parse(args);
      if (!List.of("logs", "get", "artifacts").contains(o.command())) {
        throw new UsageException("unknown command " + o.command());
      }
      if (o.command().equals("logs") && (o.positional().isEmpty() || o.positional().size() > 2)) {
        throw new UsageException("logs takes JOB [STEP]");
      }
      if (o.command().equals("artifacts") && (o.positional().isEmpty() || o.positional().size() > 2)) {
        throw new UsageException("artifacts takes JOB [NAME]");
      }
      if (o.command().equals("get") && o.positional().size() > 1) {
        throw new UsageException("get takes at most one JOB");
      }
    } catch (UsageException e) {
      err.println("kubectl-nixek: " + e.getMessage());
      err.print(USAGE);
      return 2;
    }
    Config config;
    try {
      config = config(o);
    } catch (RuntimeException | IOException e) {
      err.println("kubectl-nixek: cannot load the kubeconfig: " + e.getMessage());
      return 1;
    }
    String ns = o.namespace() != null ? o.namespace()
        : config.getNamespace() != null ? config.getNamespace() : "default";
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
      return switch (o.command()) {
        case "get" -> get(client, ns, o);
        case "artifacts" -> artifacts(client, config, ns, o);
        default -> logs(client, config, ns, o);
      };
    } catch (KubernetesClientException e) {
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      err.println("kubectl-nixek: the Kubernetes API at " + config.getMasterUrl() + " refused or failed: "
          + (e.getCode() > 0 ? "HTTP " + e.getCode() + " " + firstLine(e.getMessage())
          : root.getClass().getSimpleName() + ": " + firstLine(root.getMessage())));
      return 1;
    } catch (LogClient.LogException e) {
      err.println("kubectl-nixek: " + e.getMessage()
          + (e.status() == 401 ? "\n  (the report API checks your kubeconfig's bearer token with a TokenReview; "
              + "a client certificate alone cannot be checked: docs/logs.md#reading-logs)" : ""));
      return 1;
    } catch (IOException e) {
      err.println("kubectl-nixek: " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  private static Config config(Options o) throws IOException {
    if (o.kubeconfig() == null) {
      return Config.autoConfigure(o.context());
    }
    Path file = Path.of(o.kubeconfig());
    return Config.fromKubeconfig(o.context(), Files.readString(file), file.toString());
  }

  private int logs(KubernetesClient client, Config config, String ns, Options o)
      throws IOException, InterruptedException {
    String name = o.positional().get(0);
    String step = o.positional().size() > 1 ? o.positional().get(1) : null;
    NixekJob job = awaitLogs(client, ns, name, o);
    if (job == null) {
      return 1;
    }
    String jobUrl = o.server() != null ? LogPaths.jobUrl(URI.create(o.server()), ns, name) : job.getStatus().logs.url;
    Optional<String> first = UserToken.of(config);
    if (first.isEmpty()) {
      err.println("kubectl-nixek: " + UserToken.whyNone(config));
      return 1;
    }
    LogClient logs = new LogClient(http(), () -> UserToken.of(config).orElse(null));
    List<String> names = JobSteps.names(job);
    if (step != null) {
      int index = JobSteps.index(names, step);
      if (index < 0) {
        if (names.isEmpty() && step.matches("[0-9]{1,4}") && o.follow()) {
          // a Nix job not evaluated yet: the endpoint waits for its steps
          index = Integer.parseInt(step);
        } else {
          err.println("kubectl-nixek: job " + ns + "/" + name + " has no step " + step
              + (names.isEmpty() ? " (it has no steps yet)" : " (its steps: " + String.join(", ", names) + ")"));
          return 1;
        }
      }
      logs.read(jobUrl, index, 0, o.follow(), out);
      return 0;
    }
    for (int i = 0; ; i++) {
      if (i >= names.size() && !(o.follow() && names.isEmpty() && i == 0)) {
        return 0;
      }
      if (i > 0 || names.size() > 1) {
        heading(i, i < names.size() ? names.get(i) : "");
      }
      logs.read(jobUrl, i, 0, o.follow(), out);
      // a Nix job's steps are known once it is evaluated: read them again after each step
      NixekJob now = client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
      if (now == null) {
        return 0;
      }
      names = JobSteps.names(now);
    }
  }

  /** Lists the job's artifact files, or downloads those of one artifact. */
  private int artifacts(KubernetesClient client, Config config, String ns, Options o)
      throws IOException, InterruptedException {
    String name = o.positional().get(0);
    String wanted = o.positional().size() > 1 ? o.positional().get(1) : null;
    NixekJob job = client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
    if (job == null) {
      err.println("kubectl-nixek: no NixekJob " + ns + "/" + name);
      return 1;
    }
    String base;
    if (o.server() != null) {
      base = o.server();
    } else if (job.getStatus() != null && job.getStatus().logs != null && job.getStatus().logs.url != null
        && job.getStatus().logs.url.endsWith(LogPaths.job(ns, name))) {
      String url = job.getStatus().logs.url;
      base = url.substring(0, url.length() - LogPaths.job(ns, name).length());
    } else {
      err.println("kubectl-nixek: job " + ns + "/" + name + " was never launched (no status.logs); pass --server URL");
      return 1;
    }
    if (UserToken.of(config).isEmpty()) {
      err.println("kubectl-nixek: " + UserToken.whyNone(config));
      return 1;
    }
    ArtifactClient artifacts = new ArtifactClient(http(), () -> UserToken.of(config).orElse(null), base);
    var listing = artifacts.list(ns, name);
    if (wanted == null) {
      StringBuilder b = new StringBuilder(String.format("%-4s %-20s %12s  %-64s  %s%n", "STEP", "NAME", "SIZE",
          "SHA256", "PATH"));
      for (var e : listing.files()) {
        b.append(String.format("%-4d %-20s %12d  %-64s  %s%n", e.step(), e.name(), e.size(),
            e.sha256() == null ? "-" : e.sha256(), e.path()));
      }
      out.write(b.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      return 0;
    }
    var files = listing.files().stream().filter(e -> e.name().equals(wanted)).toList();
    if (files.isEmpty()) {
      err.println("kubectl-nixek: job " + ns + "/" + name + " has no stored artifact " + wanted);
      return 1;
    }
    Path dir = Path.of(o.output() == null ? "." : o.output()).toAbsolutePath().normalize();
    for (var e : files) {
      Path target = dir.resolve(e.path()).normalize();
      if (!target.startsWith(dir)) {
        err.println("kubectl-nixek: refusing " + e.path() + ": outside " + dir);
        return 1;
      }
      String sha = artifacts.download(ns, name, e, target);
      err.println(target + " (" + e.size() + " bytes, sha256 " + sha + ")");
    }
    return 0;
  }

  private void heading(int index, String name) throws IOException {
    out.write(("==> step " + index + (name.isEmpty() ? "" : ": " + name) + " <==\n")
        .getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /**
   * The job once it has {@code status.logs} (or at once with {@code --server}); following, waits for its launch.
   * Null (with a message) when there is no such job or it never will have a log.
   */
  private NixekJob awaitLogs(KubernetesClient client, String ns, String name, Options o) throws InterruptedException {
    boolean told = false;
    while (true) {
      NixekJob job = client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
      if (job == null) {
        err.println("kubectl-nixek: no NixekJob " + ns + "/" + name);
        return null;
      }
      if (o.server() != null || job.getStatus() != null && job.getStatus().logs != null
          && job.getStatus().logs.url != null) {
        return job;
      }
      if (!o.follow() || terminal(job)) {
        err.println("kubectl-nixek: job " + ns + "/" + name + " has no status.logs: "
            + (terminal(job) ? "it ended without being launched" : "it is not launched yet (follow with -f, or "
            + "pass --server URL)"));
        return null;
      }
      if (!told) {
        err.println("kubectl-nixek: waiting for job " + ns + "/" + name + " to be launched...");
        told = true;
      }
      Thread.sleep(LAUNCH_POLL.toMillis());
    }
  }

  private static boolean terminal(NixekJob job) {
    return succeeded(job).map(c -> "True".equals(c.getStatus()) || "False".equals(c.getStatus())).orElse(false);
  }

  private static Optional<Condition> succeeded(NixekJob job) {
    if (job.getStatus() == null || job.getStatus().conditions == null) {
      return Optional.empty();
    }
    return job.getStatus().conditions.stream().filter(c -> "Succeeded".equals(c.getType())).findFirst();
  }

  private int get(KubernetesClient client, String ns, Options o) throws IOException {
    List<NixekJob> jobs;
    if (o.positional().isEmpty()) {
      jobs = client.resources(NixekJob.class).inNamespace(ns).list().getItems();
    } else {
      NixekJob job = client.resources(NixekJob.class).inNamespace(ns).withName(o.positional().get(0)).get();
      if (job == null) {
        err.println("kubectl-nixek: no NixekJob " + ns + "/" + o.positional().get(0));
        return 1;
      }
      jobs = List.of(job);
    }
    StringBuilder sb = new StringBuilder(String.format("%-30s %-18s %-7s %s%n", "NAME", "STATUS", "STEP", "LOGS"));
    for (NixekJob j : jobs) {
      sb.append(String.format("%-30s %-18s %-7s %s%n", j.getMetadata().getName(),
          succeeded(j).map(Condition::getReason).orElse(""),
          j.getStatus() == null || j.getStatus().currentStep == null ? "" : j.getStatus().currentStep,
          j.getStatus() == null || j.getStatus().logs == null ? "" : j.getStatus().logs.command));
    }
    out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
    out.flush();
    return 0;
  }

  private static HttpClient http() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
