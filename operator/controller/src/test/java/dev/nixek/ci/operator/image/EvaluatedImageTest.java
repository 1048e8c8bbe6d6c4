package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekEvaluatedMachine;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Images of evaluated machines (recipe v2): identity, validation, the builder's expression, the job's image spec. */
class EvaluatedImageTest {
  static final String DRV = "/nix/store/7lk0y9rlzhfdr1459v3aaljbvzkcxhql-nixos-image-amazon-25.05.stub-x86_64-linux.drv";
  static final String OTHER_DRV = "/nix/store/s1d73hfp3ibawr25h20lqnws7qm7l8m2-nixos-image-amazon-25.05.stub-x86_64-linux.drv";
  static final String REV = "0123456789abcdef0123456789abcdef01234567";
  private static final OperatorConfig CONFIG = OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_NIXPKGS",
      ImageIdentityTest.PIN, "NIXEK_IMAGE_BUCKET", "images"));

  static NixekMachineImageSpec nixSpec(String nix, String drvPath) {
    NixekMachineImageSpec s = new NixekMachineImageSpec();
    s.nix = nix;
    s.drvPath = drvPath;
    return s;
  }

  static NixekMachineImageSpec flakeSpec(String drvPath) {
    NixekMachineImageSpec s = new NixekMachineImageSpec();
    s.flake = new NixekJobFlake();
    s.flake.url = "git+https://example.com/org/repo";
    s.flake.rev = REV;
    s.flake.attribute = "ci.jobs.hello";
    s.drvPath = drvPath;
    return s;
  }

  @Test
  void theIdentityOfAnEvaluatedMachineIsItsDrvPathAlone() {
    ImageIdentity a = ImageIdentity.of(nixSpec("{ machine = m; steps = [ ]; }", DRV), ImageIdentityTest.OPTIONS,
        "team-a");
    ImageIdentity b = ImageIdentity.of(nixSpec("# other steps\n{ machine = m; steps = [ x ]; }", DRV),
        ImageIdentityTest.OPTIONS, "team-a");
    ImageIdentity c = ImageIdentity.of(flakeSpec(DRV), OperatorConfig.fromEnv(Map.of()).images(), "team-a");
    assertThat(a.hash()).isEqualTo(b.hash()).isEqualTo(c.hash()).matches("[0-9a-f]{64}");
    assertThat(a.recipe()).isEqualTo("nixek-image/v2");
    assertThat(ImageIdentity.of(nixSpec("{ }", OTHER_DRV), ImageIdentityTest.OPTIONS, "team-a").hash()).isNotEqualTo(a.hash());
    // stable: it names the image's builder pod, S3 object and AMI
    assertThat(a.hash()).isEqualTo(ImageIdentity.sha256("nixek-image/v2\ndrvPath " + DRV.length() + ":" + DRV + "\n"
        + "trustDomain 16:namespace/team-a\n"));
    // a module whose text happened to be the same string still has another recipe, so another identity
    assertThat(ImageIdentity.of(DRV, ImageIdentityTest.PIN, "x86_64-linux", null, "1.2.3").hash())
        .isNotEqualTo(a.hash());
  }

  @Test
  void validation() {
    assertThat(ImageValidator.validate(nixSpec("{ }", DRV), CONFIG.images(), "us-east-1")).isEmpty();
    assertThat(ImageValidator.validate(flakeSpec(DRV), CONFIG.images(), "us-east-1")).isEmpty();
    // an evaluated job may bring its own nixpkgs: the operator's pin is not required
    assertThat(ImageValidator.validate(flakeSpec(DRV), OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_BUCKET", "images"))
        .images(), "us-east-1")).isEmpty();
    assertInvalid(s -> s.drvPath = null, "spec.drvPath: is required with spec.nix or spec.flake");
    assertInvalid(s -> s.drvPath = "/etc/passwd", "spec.drvPath: is required with spec.nix or spec.flake");
    assertInvalid(s -> s.machine = "{ }", "spec.machine: set only one of spec.machine, spec.nix and spec.flake");
    assertInvalid(s -> s.diskSizeGiB = 8, "spec.diskSizeGiB: is only used with spec.machine");
    assertInvalid(s -> s.nix = " ", "spec.nix: is empty");
    NixekMachineImageSpec flake = flakeSpec(DRV);
    flake.flake.attribute = null;
    assertThat(ImageValidator.validate(flake, CONFIG.images(), "us-east-1")).hasValueSatisfying(e ->
        assertThat(e.message()).startsWith("spec.flake.attribute: is required"));
    flake = flakeSpec(DRV);
    flake.flake.url = "git+https://example.com/org/repo?rev=" + REV;
    assertThat(ImageValidator.validate(flake, CONFIG.images(), "us-east-1")).hasValueSatisfying(e ->
        assertThat(e.message()).isEqualTo("spec.flake.url: must not pin a revision itself: give it in spec.flake.rev"));
    NixekMachineImageSpec module = ImageIdentityTest.spec(ImageIdentityTest.MACHINE);
    module.drvPath = DRV;
    assertThat(ImageValidator.validate(module, CONFIG.images(), "us-east-1")).hasValueSatisfying(e ->
        assertThat(e.message()).isEqualTo("spec.drvPath: is only used with spec.nix or spec.flake"));
  }

  private static void assertInvalid(Consumer<NixekMachineImageSpec> change, String message) {
    NixekMachineImageSpec s = nixSpec("{ }", DRV);
    change.accept(s);
    assertThat(ImageValidator.validate(s, CONFIG.images(), "us-east-1")).hasValueSatisfying(e ->
        assertThat(e.message()).startsWith(message));
  }

  @Test
  void theBuilderBuildsMachineNixWithTheEvaluationsArgumentsAndChecksTheDrvPath() {
    NixekMachineImage image = new NixekMachineImage();
    image.setMetadata(new ObjectMetaBuilder().withNamespace("ci").withName("nixek-x").withUid("u").build());
    image.setSpec(nixSpec("{ machine = { }; steps = [ ]; }", DRV));
    image.getSpec().nixpkgs = ImageIdentityTest.PIN;
    image.getSpec().system = "x86_64-linux";
    ImageIdentity id = ImageIdentity.of(image.getSpec(), CONFIG.images(), "team-a");
    BuilderPods pods = new BuilderPods(CONFIG.images(), CONFIG.aws(), "prod");
    ConfigMap cm = pods.configMap(image, id, "nixek-build-x");
    assertThat(cm.getData()).containsOnlyKeys("job.nix", "image.nix");
    assertThat(cm.getData().get("job.nix")).isEqualTo("{ machine = { }; steps = [ ]; }");
    assertThat(cm.getData().get("image.nix")).isEqualTo("""
        # Generated by nixek-ci (nixek-image/v2, image %s):
        # the EC2 image of the machine of the job in job.nix, evaluated to %s.
        import "/opt/nixek/src/nix/machine.nix" {
          jobFile = toString ./job.nix;
          nixpkgs = "%s";
          system = "x86_64-linux";
          agentJar = "/opt/nixek/nixek-agent.jar";
        }
        """.formatted(id.hash(), DRV, ImageIdentityTest.PIN));
    assertThat(pods.pod(image, id, "nixek-build-x", "images", "k", "g").getSpec().getContainers().get(0)
        .getCommand()).containsSubsequence("--expect-drv-path", DRV);

    NixekMachineImage flake = new NixekMachineImage();
    flake.setMetadata(image.getMetadata());
    flake.setSpec(flakeSpec(DRV));
    ImageIdentity fid = ImageIdentity.of(flake.getSpec(), OperatorConfig.fromEnv(Map.of()).images(), "team-a");
    assertThat(new BuilderPods(OperatorConfig.fromEnv(Map.of()).images(), CONFIG.aws(), "prod")
        .configMap(flake, fid, "b").getData()).containsOnlyKeys("image.nix").containsEntry("image.nix", """
        # Generated by nixek-ci (nixek-image/v2, image %s):
        # the EC2 image of the machine of a flake job, evaluated to %s.
        import "/opt/nixek/src/nix/machine.nix" {
          flake = "git+https://example.com/org/repo?rev=%s";
          attribute = "ci.jobs.hello";
          system = "x86_64-linux";
          agentJar = "/opt/nixek/nixek-agent.jar";
        }
        """.formatted(fid.hash(), DRV, REV));
    // the agent jar is where the operator is told the builder image has it, as the evaluation pod was
    OperatorConfig otherJar = OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_AGENT_JAR", "/srv/nixek-agent.jar"));
    assertThat(new BuilderPods(otherJar.images(), otherJar.aws(), "prod").expression(id))
        .contains("  agentJar = \"/srv/nixek-agent.jar\";\n").doesNotContain("/opt/nixek/nixek-agent.jar");
    // a site's own build command builds something else by definition: no drvPath check then
    OperatorConfig custom = OperatorConfig.fromEnv(Map.of("NIXEK_BUILDER_BUILD_COMMAND", "my-build"));
    assertThat(new BuilderPods(custom.images(), custom.aws(), "prod").pod(image, id, "p", "b", "k", "g")
        .getSpec().getContainers().get(0).getCommand()).doesNotContain("--expect-drv-path");
  }

  @Test
  void aJobsEvaluatedMachineResolvesToTheImageOfItsDrvPath() {
    NixekJob flakeJob = evaluatedJob("hello");
    flakeJob.getSpec().flake = new NixekJobFlake();
    flakeJob.getSpec().flake.url = "git+https://example.com/org/repo";
    flakeJob.getSpec().flake.rev = REV;
    NixekMachineImageSpec spec = ContentAddressedImageResolver.evaluatedSpec(flakeJob,
        flakeJob.getStatus().evaluation.machine, CONFIG.images());
    assertThat(spec.flake.attribute).as("the default attribute, written out").isEqualTo("ci.jobs.hello");
    assertThat(spec.drvPath).isEqualTo(DRV);
    assertThat(spec.nixpkgs).isEqualTo(ImageIdentityTest.PIN);
    assertThat(spec.system).isEqualTo("aarch64-linux");
    assertThat(spec.machine).isNull();

    NixekJob inline = evaluatedJob("other");
    inline.getSpec().nix = "{ machine = { }; steps = [ ]; }";
    String name = ContentAddressedImageResolver.inlineImageName(inline, CONFIG.images()).orElseThrow();
    assertThat(ContentAddressedImageResolver.inlineImageName(flakeJob, CONFIG.images())).contains(name);
    assertThat(name).isEqualTo("nixek-" + ImageIdentity.of(nixSpec("x", DRV), CONFIG.images(), "ci").shortHash());
    inline.getStatus().evaluation.machine = null;
    assertThat(ContentAddressedImageResolver.inlineImageName(inline, CONFIG.images())).isEmpty();
    inline.getStatus().evaluation = null;
    assertThat(ContentAddressedImageResolver.inlineImageName(inline, CONFIG.images())).isEmpty();
  }

  private static NixekJob evaluatedJob(String name) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace("ci").withName(name).build());
    job.setSpec(new NixekJobSpec());
    job.setStatus(new NixekJobStatus());
    job.getStatus().evaluation = new NixekJobEvaluation();
    job.getStatus().evaluation.steps = List.of();
    job.getStatus().evaluation.machine = new NixekEvaluatedMachine();
    job.getStatus().evaluation.machine.drvPath = DRV;
    job.getStatus().evaluation.machine.system = "aarch64-linux";
    return job;
  }
}
