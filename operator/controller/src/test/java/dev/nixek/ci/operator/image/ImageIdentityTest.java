package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.operator.config.ImageOptions;
import dev.nixek.ci.operator.config.OperatorConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ImageIdentityTest {
  static final String PIN = "github:NixOS/nixpkgs/0123456789abcdef0123456789abcdef01234567";
  static final ImageOptions OPTIONS = OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_NIXPKGS", PIN,
      "NIXEK_IMAGE_AGENT_VERSION", "1.2.3", "NIXEK_IMAGE_BUCKET", "bucket")).images();
  static final String MACHINE = "{ pkgs, ... }: { environment.systemPackages = [ pkgs.git ]; }";

  static NixekMachineImageSpec spec(String machine) {
    NixekMachineImageSpec s = new NixekMachineImageSpec();
    s.machine = machine;
    return s;
  }

  @Test
  void theSameInputsGiveTheSameIdentityWhateverTheFormatting() {
    ImageIdentity a = ImageIdentity.of(spec(MACHINE), OPTIONS, "team-a");
    NixekMachineImageSpec explicit = spec("\r\n  " + MACHINE.replace(" ", " ") + "\r\n\n");
    explicit.nixpkgs = PIN;
    explicit.system = "x86_64-linux";
    explicit.retry = "7";
    explicit.bucket = "another-bucket";
    explicit.region = "eu-west-1";
    assertThat(ImageIdentity.of(explicit, OPTIONS, "team-a")).isEqualTo(a);
    assertThat(a.hash()).matches("[0-9a-f]{64}");
    assertThat(a.shortHash()).isEqualTo(a.hash().substring(0, 32));
    // stable across releases: a changed hash rebuilds every image, so it changes only on purpose
    assertThat(ImageIdentity.of(MACHINE, PIN, "x86_64-linux", null, "1.2.3", "namespace/team-a").hash())
        .isEqualTo(a.hash());
  }

  @Test
  void everyInputChangesTheIdentity() {
    NixekMachineImageSpec otherMachine = spec(MACHINE.replace("git", "jq"));
    NixekMachineImageSpec otherPin = spec(MACHINE);
    otherPin.nixpkgs = PIN.replace("0123", "9999");
    NixekMachineImageSpec otherSystem = spec(MACHINE);
    otherSystem.system = "aarch64-linux";
    NixekMachineImageSpec otherDisk = spec(MACHINE);
    otherDisk.diskSizeGiB = 8;
    ImageOptions otherAgent = OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_NIXPKGS", PIN,
        "NIXEK_IMAGE_AGENT_VERSION", "1.2.4")).images();
    Set<String> hashes = new HashSet<>();
    for (ImageIdentity id : List.of(ImageIdentity.of(spec(MACHINE), OPTIONS, "team-a"),
        ImageIdentity.of(otherMachine, OPTIONS, "team-a"), ImageIdentity.of(otherPin, OPTIONS, "team-a"),
        ImageIdentity.of(otherSystem, OPTIONS, "team-a"), ImageIdentity.of(otherDisk, OPTIONS, "team-a"),
        ImageIdentity.of(spec(MACHINE), otherAgent, "team-a"))) {
      hashes.add(id.hash());
    }
    assertThat(hashes).hasSize(6);
  }

  @Test
  void valuesCannotForgeTheBoundaryBetweenFields() {
    // "a" + "bc" and "ab" + "c" must differ: fields are length-prefixed
    assertThat(ImageIdentity.of("m", "ab", "c", null, "v").hash())
        .isNotEqualTo(ImageIdentity.of("m", "a", "bc", null, "v").hash());
  }

  @Test
  void derivedNamesFitTheirLimits() {
    ImageIdentity id = ImageIdentity.of(spec(MACHINE), OPTIONS, "team-a");
    String longCluster = "c".repeat(63);
    assertThat(ImageNames.inlineImage(id)).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?").hasSizeLessThanOrEqualTo(63);
    assertThat(ImageNames.builder(id, "us-east-1", "bucket")).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?")
        .hasSizeLessThanOrEqualTo(63);
    assertThat(ImageNames.ami(longCluster, id)).hasSizeLessThanOrEqualTo(128).matches("[A-Za-z0-9()./_-]{3,128}");
    assertThat(ImageNames.importToken(longCluster, id, "us-east-1", "s3://b/k", 1)).hasSizeLessThanOrEqualTo(64)
        .matches("\\p{ASCII}+");
  }

  @Test
  void theBuilderAndTheImportTokenDependOnWhereTheImageGoesAndTheAttempt() {
    ImageIdentity id = ImageIdentity.of(spec(MACHINE), OPTIONS, "team-a");
    assertThat(ImageNames.builder(id, "us-east-1", "a")).isEqualTo(ImageNames.builder(id, "us-east-1", "a"))
        .isNotEqualTo(ImageNames.builder(id, "us-east-1", "b"))
        .isNotEqualTo(ImageNames.builder(id, "eu-west-1", "a"));
    String token = ImageNames.importToken("c", id, "us-east-1", "s3://b/k", 1);
    assertThat(ImageNames.importToken("c", id, "us-east-1", "s3://b/k", 1)).isEqualTo(token);
    assertThat(Set.of(token, ImageNames.importToken("c", id, "us-east-1", "s3://b/k", 2),
        ImageNames.importToken("d", id, "us-east-1", "s3://b/k", 1),
        ImageNames.importToken("c", id, "us-east-1", "s3://b/other", 1))).hasSize(4);
  }

  @Test
  void theNamespaceIsPartOfTheIdentityAndOfEveryNameDerivedFromIt() {
    ImageIdentity a = ImageIdentity.of(spec(MACHINE), OPTIONS, "team-a");
    ImageIdentity b = ImageIdentity.of(spec(MACHINE), OPTIONS, "team-b");
    assertThat(a.trustDomain()).isEqualTo("namespace/team-a");
    assertThat(b.hash()).isNotEqualTo(a.hash());
    assertThat(ImageNames.ami("c", b)).isNotEqualTo(ImageNames.ami("c", a));
    assertThat(ImageNames.inlineImage(b)).isNotEqualTo(ImageNames.inlineImage(a));
    assertThat(ImageNames.objectPrefix("p", "c", b)).isNotEqualTo(ImageNames.objectPrefix("p", "c", a));
    assertThat(ImageNames.builder(b, "r", "k")).isNotEqualTo(ImageNames.builder(a, "r", "k"));
    // an evaluated machine too: B's drvPath claimed in A is A's identity, never B's
    String drv = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-amazon-image.drv";
    NixekMachineImageSpec evaluated = new NixekMachineImageSpec();
    evaluated.drvPath = drv;
    evaluated.nix = "{ }";
    assertThat(ImageIdentity.of(evaluated, OPTIONS, "team-a").hash())
        .isNotEqualTo(ImageIdentity.of(evaluated, OPTIONS, "team-b").hash());
  }

  @Test
  void theClusterDomainIsOneIdentityEverywhereAndKeepsTheIdentitiesOfBefore() {
    ImageOptions cluster = OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_NIXPKGS", PIN, "NIXEK_IMAGE_AGENT_VERSION",
        "1.2.3", "NIXEK_IMAGE_BUCKET", "bucket", "NIXEK_IMAGE_TRUST_DOMAIN", "cluster")).images();
    ImageIdentity a = ImageIdentity.of(spec(MACHINE), cluster, "team-a");
    assertThat(ImageIdentity.of(spec(MACHINE), cluster, "team-b")).isEqualTo(a);
    assertThat(a.trustDomain()).isEmpty();
    assertThat(a.hash()).isEqualTo(ImageIdentity.of(MACHINE, PIN, "x86_64-linux", null, "1.2.3").hash())
        .isNotEqualTo(ImageIdentity.of(spec(MACHINE), OPTIONS, "team-a").hash());
  }
}
