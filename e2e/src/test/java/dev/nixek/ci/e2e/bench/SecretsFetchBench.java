package dev.nixek.ci.e2e.bench;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import dev.nixek.ci.api.v1alpha1.NixekSecretUse;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.e2e.ManifestsIT;
import dev.nixek.ci.e2e.Stack;
import dev.nixek.ci.operator.config.JobSecretOptions;
import dev.nixek.ci.operator.secrets.JobSecretSealing;
import dev.nixek.ci.operator.secrets.RepositorySecretPolicy;
import dev.nixek.ci.testing.kube.KubeApiServer;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What fetching 10 secrets adds to a job (bench/secrets-fetch/README.md), on a real kube-apiserver + etcd with the
 * report API as its own process and the real agent: (1) the operator's side at launch, {@link JobSecretSealing} reading
 * 10 Secrets and sealing their values (measured in this JVM, RUNS times); (2) the agent's side before the first step,
 * the fetch from the report API as the agent itself times it ("fetched 10 secret value(s) in N ms" in its log), over
 * JOBS jobs run one after the other. A main, not a test: nothing in mvn runs it.
 */
public final class SecretsFetchBench {
  private static final Pattern FETCHED = Pattern.compile("fetched (\\d+) secret value\\(s\\) in (\\d+) ms");

  public static void main(String[] args) throws Exception {
    int runs = Integer.parseInt(System.getenv().getOrDefault("RUNS", "50"));
    int jobs = Integer.parseInt(System.getenv().getOrDefault("JOBS", "10"));
    Path work = Path.of(System.getenv().getOrDefault("WORK", "/tmp/nixek-secrets-fetch"));
    Files.createDirectories(work);
    try (KubeApiServer kube = KubeApiServer.builder().workDir(work.resolve("kube")).start()) {
      ManifestsIT.installCrds(kube);
      KubernetesClient client = kube.client();
      String ns = "bench";
      client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
          .create();
      List<NixekSecretUse> uses = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        client.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName("s" + i)
            .addToLabels("ci.nixek.dev/job-secret", "true").endMetadata()
            .addToStringData("value", "secret-value-" + i + "-" + UUID.randomUUID()).build()).create();
        uses.add(new NixekSecretUse("S" + i, new NixekSecretKeyRef("s" + i, "value"), "env"));
      }

      // (1) the operator: read 10 Secrets, check them, seal
      JobSecretSealing sealing = new JobSecretSealing(client, "default", new JobSecretOptions("nixek-ci-seal-key",
          16384), job -> java.util.Optional.empty());
      NixekJob probe = job(ns, "probe", uses);
      probe.getMetadata().setUid(UUID.randomUUID().toString());
      for (int i = 0; i < 5; i++) {
        sealing.seal(probe, 1); // warm-up: the key made, classes loaded, connections open
      }
      List<Long> sealMicros = new ArrayList<>();
      for (int i = 0; i < runs; i++) {
        long t = System.nanoTime();
        if (!(sealing.seal(probe, 1) instanceof JobSecretSealing.Outcome.Sealed)) {
          throw new IllegalStateException("not sealed");
        }
        sealMicros.add((System.nanoTime() - t) / 1000);
      }

      // (2) the agent: jobs whose first step uses the 10 secrets, one after the other
      List<Long> fetchMillis = new ArrayList<>();
      Files.createDirectories(work.resolve("stack"));
      try (Stack stack = Stack.start(client, kube.kubeconfig(), work.resolve("stack"), true,
          Map.of("NIXEK_WATCH_NAMESPACES", ns))) {
        for (int i = 0; i < jobs; i++) {
          String name = "j" + i;
          client.resources(NixekJob.class).inNamespace(ns).resource(job(ns, name, uses)).create();
          long deadline = System.nanoTime() + 120_000_000_000L;
          while (true) {
            NixekJob j = client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
            if (j != null && Conditions.isTerminal(j.getStatus())) {
              break;
            }
            if (System.nanoTime() > deadline) {
              throw new IllegalStateException("job " + name + " did not end");
            }
            Thread.sleep(100);
          }
        }
        try (Stream<Path> files = Files.walk(stack.work().resolve("machines"))) {
          for (Path f : files.filter(p -> p.getFileName().toString().equals("agent.log")).toList()) {
            Matcher m = FETCHED.matcher(Files.readString(f));
            while (m.find()) {
              if (m.group(1).equals("10")) {
                fetchMillis.add(Long.parseLong(m.group(2)));
              }
            }
          }
        }
      }
      double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
      System.out.printf("| what | n | median | p90 | max |%n| --- | --- | --- | --- | --- |%n");
      row("operator: read 10 Secrets and seal (us)", sealMicros);
      row("agent: fetch 10 values before the first step (ms)", fetchMillis);
      System.out.printf("%nload average (1 min) at the end: %.2f, %d cores%n", load,
          Runtime.getRuntime().availableProcessors());
    }
  }

  private static NixekJob job(String ns, String name, List<NixekSecretUse> uses) {
    NixekJob j = new NixekJob();
    j.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).build());
    var spec = new dev.nixek.ci.api.v1alpha1.NixekJobSpec();
    spec.machine = "{ pkgs, ... }: { }";
    NixekJobStep step = new NixekJobStep();
    step.name = "uses them";
    step.run = "test -n \"$S9\"";
    step.secrets = new ArrayList<>(uses);
    spec.steps = new ArrayList<>(List.of(step));
    j.setSpec(spec);
    return j;
  }

  private static void row(String what, List<Long> values) {
    if (values.isEmpty()) {
      System.out.printf("| %s | 0 | - | - | - |%n", what);
      return;
    }
    List<Long> v = new ArrayList<>(values);
    Collections.sort(v);
    System.out.printf("| %s | %d | %d | %d | %d |%n", what, v.size(), v.get(v.size() / 2),
        v.get(Math.min(v.size() - 1, (int) Math.ceil(v.size() * 0.9) - 1)), v.get(v.size() - 1));
  }
}
