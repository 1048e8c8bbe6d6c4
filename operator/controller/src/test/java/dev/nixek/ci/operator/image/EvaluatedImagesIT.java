package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import dev.nixek.ci.operator.testing.GitRepos;
import dev.nixek.ci.operator.testing.ImageBootingProvider;
import dev.nixek.ci.operator.testing.ReportApiProcess;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Machine images of jobs written in Nix, on the real apiserver tier: the test kubelet runs the evaluation pods (real
 * builder jar, real nix, stub nixpkgs) and the builder pods; the evaluation pods post to the report API process. The
 * image of an evaluated machine is identified by its drvPath (recipe v2), so the same machine in two different jobs
 * — other steps, written differently — is one image and one build.
 */
class EvaluatedImagesIT extends RealApiServerTier {
  private ReportApiProcess reportApi;
  private FakeMachineProvider machines;
  private ImageBootingProvider provider;

  @BeforeEach
  void startReportApi() throws Exception {
    reportApi = ReportApiProcess.start(server.kubeconfig(), ns, work.resolve("report-api.log"));
    machines = new FakeMachineProvider();
    provider = new ImageBootingProvider(machines);
  }

  @AfterEach
  void stopReportApi() throws Exception {
    if (reportApi != null) {
      reportApi.close();
    }
  }

  private void startOperator(Map<String, String> extra) throws Exception {
    operator.close();
    Map<String, String> env = new java.util.HashMap<>(extra);
    env.put("NIXEK_REPORT_URL", reportApi.url());
    operator = new ImageOperator(client, this.env, ns, env, provider).start();
  }

  /** A machine no earlier run built: the stub's etc entry changes the image's drvPath, a comment would not. */
  private static String uniqueMachineModule() {
    return "{ pkgs, ... }: { environment.systemPackages = [ pkgs.rustup pkgs.git ]; "
        + "environment.etc.\"nixek-test\".text = \"" + UUID.randomUUID() + "\"; }";
  }

  @Test
  void theSameMachineInTwoDifferentJobsIsOneImageIdentityAndOneBuild() throws Exception {
    startOperator(Map.of());
    String machine = uniqueMachineModule();
    String other = uniqueMachineModule();
    // two jobs, other steps, the machine written differently (a comment, a function with other formals): one drvPath
    create("first", "{ nixpkgs, ... }: {\n  machine = " + machine + ";\n  steps = [ { name = \"build\"; run = "
        + "\"make\"; } ];\n}\n");
    create("second", "# another job, same machine\n{\n  machine = " + machine.replace("{ pkgs, ... }:",
        "{ pkgs, lib, ... }:") + ";\n  steps = [ { name = \"lint\"; command = [ \"make\" \"lint\" ]; } "
        + "{ name = \"test\"; run = \"make check\"; } ];\n}\n");
    create("third", "{ machine = " + other + "; steps = [ { name = \"build\"; run = \"make\"; } ]; }");

    await().atMost(Duration.ofSeconds(180)).until(() -> machines.launched().size() == 3);
    NixekJob first = job("first");
    NixekJob second = job("second");
    NixekJob third = job("third");
    String drv = first.getStatus().evaluation.machine.drvPath;
    assertThat(second.getStatus().evaluation.machine.drvPath).isEqualTo(drv);
    assertThat(third.getStatus().evaluation.machine.drvPath).isNotEqualTo(drv);
    assertThat(second.getStatus().evaluation.steps).extracting(s -> s.name).containsExactly("lint", "test");

    assertThat(first.getStatus().imageId).isNotNull().isEqualTo(second.getStatus().imageId);
    assertThat(third.getStatus().imageId).isNotNull().isNotEqualTo(first.getStatus().imageId);
    ImageIdentity id = ImageIdentity.evaluated(drv, null, null, null, null, null, null, "namespace/" + ns);
    NixekMachineImage shared = get(ImageNames.inlineImage(id));
    assertThat(shared.getSpec().drvPath).isEqualTo(drv);
    assertThat(shared.getSpec().nix).as("made for whichever job came first").isIn(first.getSpec().nix,
        second.getSpec().nix);
    assertThat(shared.getStatus().imageHash).isEqualTo(id.hash());
    assertThat(shared.getStatus().imageId).isEqualTo(first.getStatus().imageId);
    assertThat(shared.getMetadata().getLabels()).containsEntry("app.kubernetes.io/component", "inline-machine");

    List<String> builders = kubelet.started().stream().filter(p -> p.startsWith("nixek-build-")).toList();
    List<String> evaluations = kubelet.started().stream().filter(p -> p.startsWith("nixek-eval-")).toList();
    assertThat(builders).as("builder pods: one per machine").hasSize(2).doesNotHaveDuplicates();
    assertThat(evaluations).as("evaluation pods: one per job").hasSize(3);
    assertThat(env.ec2.count("ImportSnapshot")).as("ImportSnapshot calls").isEqualTo(2);
    assertThat(env.ec2.images()).hasSize(2);
    assertThat(client.resources(NixekMachineImage.class).inNamespace(ns).list().getItems()).hasSize(2);
  }

  @Test
  void aFlakeJobsMachineIsBuiltByTheProductionRecipeToTheEvaluatedDrvPath() throws Exception {
    // the builder's default command: nix-build of nix/machine.nix with the flake job, checking the drvPath
    startOperator(Map.of("NIXEK_BUILDER_BUILD_COMMAND", ""));
    Path repo = Files.createDirectories(work.resolve("repo"));
    Files.writeString(repo.resolve("flake.nix"), "{ outputs = { self }: { ci.jobs.flaky = { }: { machine = "
        + uniqueMachineModule() + "; steps = [ { name = \"hello\"; command = [ \"echo\" \"hi\" ]; } ]; }; }; }\n");
    String rev = GitRepos.commitAll(repo);
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName("flaky").build());
    job.setSpec(new NixekJobSpec());
    job.getSpec().flake = new NixekJobFlake();
    job.getSpec().flake.url = "git+file://" + repo;
    job.getSpec().flake.rev = rev;
    client.resource(job).create();

    // launched is when the machine's id is recorded, a moment after the provider was called
    await().atMost(Duration.ofSeconds(180)).until(() -> job("flaky").getStatus() != null
        && (job("flaky").getStatus().instanceId != null || Conditions.isTerminal(job("flaky").getStatus())));
    assertThat(machines.launched()).hasSize(1);
    NixekJob launched = job("flaky");
    assertThat(launched.getStatus().instanceId).as("launched: %s", launched.getStatus().conditions).isNotNull();
    String drv = launched.getStatus().evaluation.machine.drvPath;
    NixekMachineImage image = get(ImageNames.inlineImage(ImageIdentity.evaluated(drv, null, null, null, null, null,
        null, "namespace/" + ns)));
    assertThat(image.getSpec().flake.attribute).isEqualTo("ci.jobs.flaky");
    assertThat(image.getSpec().flake.rev).isEqualTo(rev);
    assertThat(image.getStatus().drvPath).as("what the builder built is what was evaluated").isEqualTo(drv);
    assertThat(image.getStatus().imageId).isEqualTo(launched.getStatus().imageId);
    var pod = client.pods().inNamespace(ns).withName(image.getStatus().builderPod).get();
    assertThat(pod.getSpec().getContainers().get(0).getCommand()).containsSubsequence("--expect-drv-path", drv);
    var data = client.configMaps().inNamespace(ns).withName(image.getStatus().builderPod).get().getData();
    assertThat(data.get("image.nix")).contains("flake = \"git+file://" + repo + "?rev=" + rev + "\";")
        .contains("attribute = \"ci.jobs.flaky\";").contains("nixek-image/v2");
    env.built(image.getStatus().drvPath);
  }

  @Test
  void aJobWithoutAMachineFailsWhereEveryJobBootsAnImage() throws Exception {
    startOperator(Map.of());
    create("bare", "{ steps = [ { name = \"hello\"; command = [ \"echo\" \"hi\" ]; } ]; }");
    await().atMost(Duration.ofSeconds(120)).until(() -> job("bare") != null
        && Conditions.isTerminal(job("bare").getStatus()));
    Condition c = Conditions.find(job("bare").getStatus().conditions, Conditions.SUCCEEDED).orElseThrow();
    assertThat(c.getReason()).isEqualTo("NoMachine");
    assertThat(c.getMessage()).contains("names no machine");
    assertThat(machines.launched()).isEmpty();
    assertThat(kubelet.started()).noneMatch(p -> p.startsWith("nixek-build-"));
  }

  private void create(String name, String nix) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).build());
    job.setSpec(new NixekJobSpec());
    job.getSpec().nix = nix;
    client.resource(job).create();
  }

  private NixekJob job(String name) {
    return client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
  }
}
