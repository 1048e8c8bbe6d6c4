package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.operator.config.ImageOptions;
import dev.nixek.ci.operator.config.OperatorConfig;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ImageValidatorTest {
  private static final ImageOptions WITH_DEFAULTS = ImageIdentityTest.OPTIONS;
  private static final ImageOptions NO_DEFAULTS = OperatorConfig.fromEnv(Map.of()).images();

  static Stream<Arguments> specs() {
    return Stream.of(
        bad("spec.machine: is required", s -> s.machine = null),
        bad("spec.machine: is empty", s -> s.machine = " \n\t"),
        bad("spec.machine: is longer than 65536 characters", s -> s.machine = "#".repeat(65537)),
        bad("spec.system: must be x86_64-linux or aarch64-linux, not 'riscv64-linux'",
            s -> s.system = "riscv64-linux"),
        bad("spec.diskSizeGiB: must be from 2 to 16384, not 1", s -> s.diskSizeGiB = 1),
        bad("spec.diskSizeGiB: must be from 2 to 16384, not 16385", s -> s.diskSizeGiB = 16385),
        bad("spec.nixpkgs: must be a flake reference", s -> s.nixpkgs = "github:x/y\"; evil = \"1"),
        bad("spec.nixpkgs: must be a flake reference", s -> s.nixpkgs = "nixpkgs ${builtins.exec}"),
        bad("spec.region: must be an AWS region", s -> s.region = "mars"),
        bad("spec.bucket: must be an S3 bucket name", s -> s.bucket = "Not_A_Bucket"),
        Arguments.of(null, (Consumer<NixekMachineImageSpec>) s -> s.diskSizeGiB = 2),
        Arguments.of(null, (Consumer<NixekMachineImageSpec>) s -> s.system = "aarch64-linux"),
        Arguments.of(null, (Consumer<NixekMachineImageSpec>) s -> s.nixpkgs = "/nix/store/abc-source"));
  }

  private static Arguments bad(String message, Consumer<NixekMachineImageSpec> change) {
    return Arguments.of(message, change);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("specs")
  void namesTheFieldOfTheFirstProblem(String expected, Consumer<NixekMachineImageSpec> change) {
    NixekMachineImageSpec spec = ImageIdentityTest.spec(ImageIdentityTest.MACHINE);
    change.accept(spec);
    var result = ImageValidator.validate(spec, WITH_DEFAULTS, "us-east-1");
    if (expected == null) {
      assertThat(result).isEmpty();
    } else {
      assertThat(result).hasValueSatisfying(e -> assertThat(e.message()).startsWith(expected));
    }
  }

  @org.junit.jupiter.api.Test
  void whatTheOperatorHasNoDefaultForMustBeInTheSpec() {
    NixekMachineImageSpec spec = ImageIdentityTest.spec(ImageIdentityTest.MACHINE);
    assertThat(ImageValidator.validate(spec, NO_DEFAULTS, "us-east-1")).hasValueSatisfying(e ->
        assertThat(e.message()).isEqualTo("spec.nixpkgs: is required: the operator has no default nixpkgs pin "
            + "(NIXEK_IMAGE_NIXPKGS)"));
    spec.nixpkgs = ImageIdentityTest.PIN;
    assertThat(ImageValidator.validate(spec, NO_DEFAULTS, "us-east-1")).hasValueSatisfying(e ->
        assertThat(e.field()).isEqualTo("spec.bucket"));
    spec.bucket = "bucket";
    assertThat(ImageValidator.validate(spec, NO_DEFAULTS, "")).hasValueSatisfying(e ->
        assertThat(e.field()).isEqualTo("spec.region"));
    spec.region = "eu-west-1";
    assertThat(ImageValidator.validate(spec, NO_DEFAULTS, "")).isEmpty();
    assertThat(ImageValidator.validate(null, NO_DEFAULTS, "")).hasValueSatisfying(e ->
        assertThat(e.field()).isEqualTo("spec"));
  }
}
