package dev.nixek.ci.demo;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.cli.LogClient;
import dev.nixek.ci.cli.UserToken;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.regex.Pattern;

/**
 * README command 1: runs one job manifest end to end and exits 0 only if the job succeeded.
 *
 * <p>The Kubernetes API is the fabric8 mock server in CRUD mode, embedded here, unless {@code KUBECONFIG} points at
 * a real cluster. The operator and the report API run as separate processes, as the two containers of the operator
 * pod do in production; the operator's {@code local} provider starts the real agent for the job. A job written in
 * Nix is evaluated by the operator as a local process (the embedded API server has no kubelet to run an evaluation
 * pod): the clone's builder jar and {@code nix/}, with {@code nix-instantiate} from PATH.
 */
public final class Demo {
  private static final Pattern REPORT_PORT = Pattern.compile("nixek-report-api listening on port (\\d+)");
  private static final Pattern OPERATOR_STARTED = Pattern.compile("nixek-operator started");

  private final PrintStream out;
  private final Path home;
  private final Path work;

  Demo(PrintStream out, Path home, Path work) {
    this.out = out;
    this.home = home;
    this.work = work;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 1 || args[0].startsWith("-")) {
      System.err.println("usage: nixek-demo <job.yaml> [timeout-seconds]");
      System.exit(64);
    }
    Path manifest = Path.of(args[0]);
    Duration timeout = Duration.ofSeconds(args.length > 1 ? Long.parseLong(args[1]) : 300);
    Path home = Path.of(System.getProperty("nixek.home", ".")).toAbsolutePath().normalize();
    Path work = Files.createTempDirectory("nixek-demo-");
    int code = new Demo(System.out, home, work).run(manifest, timeout, System.getenv("KUBECONFIG"));
    System.exit(code);
  }

  /** Runs the job; 0 if it succeeded, 1 if it failed, 2 if it did not finish in time. */
  int run(Path manifest, Duration timeout, String kubeconfigEnv) throws Exception {
    NixekJob job;
    try (InputStream in = Files.newInputStream(manifest)) {
      job = Serialization.unmarshal(in, NixekJob.class);
    }
    boolean writtenInNix = job.getSpec() != null && (job.getSpec().nix != null || job.getSpec().flake != null);
    if (writtenInNix && !onPath("nix-instantiate")) {
      out.println("nixek-demo: " + manifest + " is a job written in Nix, and evaluating it needs nix-instantiate on "
          + "PATH (Nix 2.18 or later; e.g. apt-get install nix-bin)");
      return 64;
    }
    boolean realCluster = kubeconfigEnv != null && !kubeconfigEnv.isBlank();
    KubernetesMockServer mock = null;
    Path kubeconfig;
    if (realCluster) {
      kubeconfig = Path.of(kubeconfigEnv);
      out.println("==> using the cluster in KUBECONFIG=" + kubeconfig);
    } else {
      // the mock logs every request through java.util.logging at INFO
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
      // CRUD for every object; the reviews the logs endpoint asks answered for the demo's user (DemoAuth)
      Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
      mock = new KubernetesMockServer(new Context(), new MockWebServer(), expectations,
          new KubernetesMixedDispatcher(expectations), true);
      mock.init();
      DemoAuth auth = new DemoAuth();
      auth.install(mock);
      kubeconfig = work.resolve("kubeconfig");
      Files.writeString(kubeconfig, kubeconfigFor("https://localhost:" + mock.getPort(), auth.credential()));
      out.println("==> embedded Kubernetes API (fabric8 mock server, CRUD mode) on port " + mock.getPort());
    }
    List<Child> children = new ArrayList<>();
    try (KubernetesClient client = new KubernetesClientBuilder()
        .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig))).build()) {
      installCrds(client);
      String namespace = job.getMetadata().getNamespace() != null ? job.getMetadata().getNamespace()
          : client.getConfiguration().getNamespace() != null ? client.getConfiguration().getNamespace() : "default";

      Map<String, String> common = new HashMap<>();
      common.put("KUBECONFIG", kubeconfig.toString());
      // every byte of every step's output, in the demo's work directory (docs/logs.md); the operator deletes a
      // job's logs with the job
      common.put("NIXEK_LOG_STORE", "local");
      common.put("NIXEK_LOG_DIR", work.resolve("logs").toString());
      Child report = Child.start("report API", javaJar("operator/report-api/target/nixek-report-api.jar"),
          with(common, Map.of("NIXEK_REPORT_BIND", "127.0.0.1", "NIXEK_REPORT_PORT", "0")),
          work.resolve("report-api.log"));
      children.add(report);
      String port = report.awaitLine(REPORT_PORT, Duration.ofSeconds(60));
      out.println("==> report API listening on 127.0.0.1:" + port + " (log: " + report.log() + ")");

      Map<String, String> operatorEnv = new HashMap<>(common);
      operatorEnv.put("NIXEK_PROVIDER", "local");
      operatorEnv.put("NIXEK_USE_SSA", realCluster ? "true" : "false");
      operatorEnv.put("NIXEK_REPORT_URL", "http://127.0.0.1:" + port);
      operatorEnv.put("NIXEK_OPERATOR_NAMESPACE", namespace);
      operatorEnv.put("NIXEK_HEALTH_PORT", "0");
      operatorEnv.put("NIXEK_POLL_SECONDS", "1");
      operatorEnv.put("NIXEK_LOCAL_STATE_DIR", work.resolve("machines").toString());
      operatorEnv.put("NIXEK_LOCAL_AGENT_COMMAND", String.join(" ", javaJar("agent/target/nixek-agent.jar")));
      // a job written in Nix: evaluated by the clone's builder, with the clone's nix/, as a local process
      operatorEnv.put("NIXEK_EVAL_COMMAND", String.join(" ", javaJar("operator/builder/target/nixek-builder.jar")));
      operatorEnv.put("NIXEK_IMAGE_NIX_DIR", home.resolve("nix").toString());
      Child operator = Child.start("operator", javaJar("operator/controller/target/nixek-operator.jar"), operatorEnv,
          work.resolve("operator.log"));
      children.add(operator);
      operator.awaitLine(OPERATOR_STARTED, Duration.ofSeconds(60));
      out.println("==> operator started, provider local (log: " + operator.log() + ")");

      var jobs = client.resources(NixekJob.class).inNamespace(namespace);
      String name = job.getMetadata().getName();
      job.getMetadata().setNamespace(namespace);
      jobs.withName(name).delete();
      jobs.resource(job).create();
      out.println("==> applied " + manifest + ": nixekjob " + namespace + "/" + name);

      // step output through the logs endpoint, with the kubeconfig's user token, as kubectl nixek logs reads it
      Config user = client.getConfiguration();
      JobFollower follower = new JobFollower(out, new StepLogs(out, new LogClient(
          HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(),
          () -> UserToken.of(user).orElse(null))));
      Instant deadline = Instant.now().plus(timeout);
      NixekJob current = null;
      while (Instant.now().isBefore(deadline)) {
        current = jobs.withName(name).get();
        if (current != null) {
          follower.update(current);
          Condition c = JobFollower.succeeded(current).orElse(null);
          if (c != null && !"Unknown".equals(c.getStatus())) {
            out.println();
            out.print(JobFollower.table(current, Instant.now()));
            if ("True".equals(c.getStatus())) {
              return 0;
            }
            out.println("job " + namespace + "/" + name + " failed: " + c.getMessage());
            return 1;
          }
        }
        Thread.sleep(200);
      }
      out.println("job " + namespace + "/" + name + " did not finish within " + timeout.toSeconds() + "s");
      if (current != null) {
        out.print(JobFollower.table(current, Instant.now()));
      }
      out.println("--- operator log (tail) ---\n" + operator.tail(30));
      out.println("--- report API log (tail) ---\n" + report.tail(30));
      return 2;
    } finally {
      for (int i = children.size() - 1; i >= 0; i--) {
        children.get(i).close();
      }
      if (mock != null) {
        mock.destroy();
      }
    }
  }

  private List<String> javaJar(String relative) throws IOException {
    Path jar = home.resolve(relative);
    if (!Files.isRegularFile(jar)) {
      throw new IOException(jar + " is missing: build first (mvn -B -DskipTests install)");
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return List.of(java, "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", jar.toString());
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    return path != null && java.util.Arrays.stream(path.split(java.io.File.pathSeparator))
        .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, program)));
  }

  private static Map<String, String> with(Map<String, String> base, Map<String, String> more) {
    Map<String, String> m = new HashMap<>(base);
    m.putAll(more);
    return m;
  }

  private static void installCrds(KubernetesClient client) throws IOException {
    for (String plural : List.of("nixekjobs", "nixekmachineimages", "nixekrepositories")) {
      try (InputStream in = Demo.class.getResourceAsStream("/META-INF/fabric8/" + plural + ".ci.nixek.dev-v1.yml")) {
        CustomResourceDefinition crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
        client.apiextensions().v1().customResourceDefinitions().resource(crd).createOr(op -> op.update());
      }
    }
  }

  private static String kubeconfigFor(String server, String token) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: embedded
          cluster:
            server: %s
            insecure-skip-tls-verify: true
        users:
        - name: demo
          user:
            token: %s
        contexts:
        - name: embedded
          context:
            cluster: embedded
            user: demo
            namespace: default
        current-context: embedded
        """.formatted(server, token);
  }
}
