package dev.nixek.ci.e2e.chart;

import dev.nixek.ci.e2e.Stack;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.testing.kube.CommandResult;
import dev.nixek.ci.testing.kube.KubeApiServer;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The chart installed with {@code helm install} on a real API server, configured for a test: the local provider
 * running the real agent jar, the report API on a free port of 127.0.0.1. {@link #start} then runs the operator and
 * the report API the way the chart's pods would: each with the chart's ServiceAccount token (never the admin's) and
 * with the environment of its container as installed (downward-API fields filled in).
 *
 * @param release the Helm release
 * @param namespace the release namespace (the operator's namespace)
 * @param jobsNamespace where the test's jobs go; the only watched namespace, or null when the chart is cluster-wide
 * @param mode {@code sidecar} (one ServiceAccount) or {@code deployment} (the report API's own)
 */
public record ChartInstall(KubeApiServer kube, Path work, String release, String namespace, String jobsNamespace,
    String mode, int reportPort, int healthPort, List<String> installArgs) {

  /**
   * Installs the chart in a new namespace; {@code namespaced} adds a new jobs namespace as the only watched one, else
   * the chart watches every namespace (cluster-wide bindings).
   */
  public static ChartInstall install(KubeApiServer kube, Path work, String release, String mode, boolean namespaced,
      String extraValues) throws IOException {
    String ns = kube.createUniqueNamespace(release);
    String jobs = namespaced ? kube.createUniqueNamespace(release + "-jobs") : null;
    Path dir = Files.createDirectories(work.resolve(release + "-" + ns));
    int reportPort = freePort();
    int healthPort = freePort();
    String values = """
        # the local provider runs the test's agents as processes of this JVM's operator
        unsafeAllowLocalProvider: true
        config:
          watchNamespaces: [%s]
          watchAllNamespaces: %s
          operator:
            provider: local
            reportUrl: http://127.0.0.1:%d
            healthPort: %d
            pollSeconds: 1
            localAgentCommand: %s
            localStateDir: %s
          reportApi:
            reportPort: %d
            reportBind: 127.0.0.1
        reportApi:
          mode: %s
        # the processes run on this machine: a local log store in the test's directory (the claim is never mounted)
        logs:
          store: local
          local:
            dir: %s
            persistentVolumeClaim: test-logs
        """.formatted(jobs == null ? "" : jobs, jobs == null, reportPort, healthPort,
        String.join(" ", Stack.javaJar("agent/target/nixek-agent.jar")), dir.resolve("machines"), reportPort, mode,
        dir.resolve("logs"));
    Path valuesFile = Helm.valuesFile(dir, "values.yaml", values);
    List<String> args = new ArrayList<>(List.of("install", release, Helm.CHART.toString(), "--namespace", ns,
        "--values", valuesFile.toString()));
    if (extraValues != null) {
      args.addAll(List.of("--values", Helm.valuesFile(dir, "extra-values.yaml", extraValues).toString()));
    }
    ChartInstall install = new ChartInstall(kube, dir, release, ns, jobs, mode, reportPort, healthPort, args);
    CommandResult r = kube.helm(args.toArray(String[]::new));
    if (r.exitCode() != 0) {
      throw new IllegalStateException("helm install failed: " + r.describe());
    }
    return install;
  }

  /** What {@code helm template} renders for this release: the objects {@code helm install} must have created. */
  public Rendered rendered() {
    List<String> args = new ArrayList<>(installArgs);
    args.set(0, "template");
    return Rendered.parse(Helm.locate(work.resolve("helm")).run(args.toArray(String[]::new)).orThrow().stdout());
  }

  public String fullname() {
    return release.contains("nixek-ci") ? release : release + "-nixek-ci";
  }

  public String operatorServiceAccount() {
    return fullname() + "-operator";
  }

  public String reportApiServiceAccount() {
    return "sidecar".equals(mode) ? operatorServiceAccount() : fullname() + "-report-api";
  }

  /** Where jobs of this installation may go. */
  public String jobsNamespace() {
    return jobsNamespace != null ? jobsNamespace : namespace;
  }

  /** The operator container's environment as installed, as a pod named {@code podName} would get it. */
  public Map<String, String> operatorEnv(String podName) {
    Deployment d = kube.client().apps().deployments().inNamespace(namespace).withName(fullname() + "-operator").get();
    return Rendered.env(Rendered.container(d, "operator"), fields(podName));
  }

  /** The report API container's environment as installed. */
  public Map<String, String> reportApiEnv() {
    String deployment = fullname() + ("sidecar".equals(mode) ? "-operator" : "-report-api");
    Deployment d = kube.client().apps().deployments().inNamespace(namespace).withName(deployment).get();
    return Rendered.env(Rendered.container(d, "report-api"), fields(deployment + "-0"));
  }

  /** A client authenticated as the operator's ServiceAccount (token from the TokenRequest API). */
  public KubernetesClient operatorClient() {
    return kube.clientFor(namespace, operatorServiceAccount());
  }

  /**
   * Starts the report API process with a kubeconfig of its ServiceAccount and the operator in this JVM with a client
   * of its own, both configured by their installed containers' environment.
   */
  public Stack start(MachineProvider provider, Map<String, String> operatorOverrides) throws Exception {
    Map<String, String> opEnv = new HashMap<>(operatorEnv("operator-0"));
    opEnv.putAll(operatorOverrides);
    Map<String, String> reportEnv = reportApiEnv();
    return Stack.start(operatorClient(), kube.kubeconfigFor(namespace, reportApiServiceAccount()), work, true,
        new Stack.Options(opEnv, reportEnv, reportPort, provider, null));
  }

  private Map<String, String> fields(String podName) {
    return Map.of("metadata.namespace", namespace, "metadata.name", podName);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
