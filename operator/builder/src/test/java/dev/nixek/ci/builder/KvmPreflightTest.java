package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The KVM checks without Nix: the device probe, the .drv reading, and what the preflight decides from them. */
class KvmPreflightTest {
  @TempDir
  Path dir;

  /** Answers as if Nix had listed {@code needKvm} (empty: Nix could not say) and counts the questions. */
  private static final class Stub extends KvmDerivations {
    final Optional<List<String>> needKvm;
    final AtomicInteger asked = new AtomicInteger();

    Stub(Optional<List<String>> needKvm) {
      this.needKvm = needKvm;
    }

    @Override
    Optional<List<String>> of(Path expr, Map<String, String> environment) {
      asked.incrementAndGet();
      return needKvm;
    }
  }

  private static final String DISK = "/nix/store/" + "a".repeat(32) + "-nixos-disk-image.drv";

  @Test
  void aMissingDeviceOrAPlainFileIsNotUsableAndACharacterDeviceOpenedReadWriteIs() throws Exception {
    assertThat(KvmDevice.problem(dir.resolve("kvm"))).hasValue(dir.resolve("kvm") + " does not exist in the "
        + "builder pod");
    Path plain = Files.writeString(dir.resolve("plain"), "");
    assertThat(KvmDevice.problem(plain)).hasValue(plain + " is not a character device");
    // /dev/null is a character device anyone may open read-write: what a usable /dev/kvm looks like to the probe
    assertThat(KvmDevice.problem(Path.of("/dev/null"))).isEmpty();
    assertThat(KvmDevice.of(Map.of())).isEqualTo(Path.of("/dev/kvm"));
    assertThat(KvmDevice.of(Map.of(KvmDevice.DEVICE_ENV, "/tmp/none"))).isEqualTo(Path.of("/tmp/none"));
  }

  @Test
  void aDrvRequiresKvmByItsEnvironmentOrItsStructuredAttributes() {
    assertThat(KvmDerivations.requiresKvm("Derive([],[],[],\"x86_64-linux\",\"/bin/sh\",[],[(\"name\",\"disk\"),"
        + "(\"requiredSystemFeatures\",\"kvm\"),(\"system\",\"x86_64-linux\")])")).isTrue();
    assertThat(KvmDerivations.requiresKvm("[(\"requiredSystemFeatures\",\"big-parallel kvm\")]")).isTrue();
    assertThat(KvmDerivations.requiresKvm("[(\"requiredSystemFeatures\",\"big-parallel\")]")).isFalse();
    assertThat(KvmDerivations.requiresKvm("[(\"name\",\"kvm\"),(\"requiredSystemFeatures\",\"\")]")).isFalse();
    assertThat(KvmDerivations.requiresKvm("[(\"__json\",\"{\\\"name\\\":\\\"disk\\\","
        + "\\\"requiredSystemFeatures\\\":[\\\"kvm\\\"]}\")]")).isTrue();
    assertThat(KvmDerivations.requiresKvm("[(\"__json\",\"{\\\"requiredSystemFeatures\\\":[\\\"benchmark\\\"],"
        + "\\\"tag\\\":\\\"kvm\\\"}\")]")).isFalse();
  }

  @Test
  void aUsableDeviceIsClaimedWithoutAskingNix() throws Exception {
    Stub nix = new Stub(Optional.of(List.of(DISK)));
    Map<String, String> env = new KvmPreflight(Path.of("/dev/null"), false, nix)
        .prepare(Map.of("NIX_CONFIG", "substituters ="), dir.resolve("image.nix"));
    assertThat(env).containsEntry("NIX_CONFIG", "substituters =\nextra-system-features = kvm");
    assertThat(nix.asked).hasValue(0);
    assertThat(KvmPreflight.claim(Map.of())).containsEntry("NIX_CONFIG", "extra-system-features = kvm");
  }

  @Test
  void withoutADeviceABuildThatNeedsKvmFailsSayingWhatToConfigure() {
    Path missing = dir.resolve("kvm");
    Stub nix = new Stub(Optional.of(List.of(DISK, "/nix/store/" + "b".repeat(32) + "-other.drv")));
    assertThatThrownBy(() -> new KvmPreflight(missing, false, nix).prepare(Map.of(), dir.resolve("image.nix")))
        .isInstanceOfSatisfying(BuilderException.class, e -> {
          assertThat(e.exitCode()).isEqualTo(ExitCode.BUILD_FAILED);
          assertThat(e.getMessage()).startsWith("this build needs KVM, but " + missing + " does not exist in the "
              + "builder pod: nixos-disk-image.drv (and 1 more) requires the system feature 'kvm'")
              .contains("Nothing was built", "NIXEK_BUILDER_KVM_RESOURCE", "builder.kvm.resource",
                  "NIXEK_BUILDER_NODE_SELECTOR", "builder.tolerations", "NIXEK_BUILDER_KVM_FALLBACK=emulate",
                  "docs/images.md#kvm");
          // one line of at most the termination message's error length: it is not cut
          assertThat(e.getMessage()).doesNotContain("\n").hasSizeLessThan(TerminationMessage.MAX_ERROR_CHARS);
        });
  }

  @Test
  void withoutADeviceABuildThatNeedsNoKvmOrThatNixCannotJudgeGoesOnUnclaimed() throws Exception {
    Path missing = dir.resolve("kvm");
    Map<String, String> env = Map.of("NIX_CONFIG", "substituters =");
    assertThat(new KvmPreflight(missing, false, new Stub(Optional.of(List.of()))).prepare(env, dir.resolve("e")))
        .isEqualTo(env);
    assertThat(new KvmPreflight(missing, false, new Stub(Optional.empty())).prepare(env, dir.resolve("e")))
        .isEqualTo(env);
    Stub custom = new Stub(Optional.of(List.of(DISK)));
    assertThat(new KvmPreflight(missing, false, custom).prepare(env, null)).as("custom build command").isEqualTo(env);
    assertThat(custom.asked).hasValue(0);
  }

  @Test
  void theEmulationFallbackClaimsKvmWithoutADevice() throws Exception {
    Stub nix = new Stub(Optional.of(List.of(DISK)));
    assertThat(new KvmPreflight(dir.resolve("kvm"), true, nix).prepare(Map.of(), dir.resolve("image.nix")))
        .containsEntry("NIX_CONFIG", "extra-system-features = kvm");
  }

  @Test
  void theFallbackIsAnOptionOfBuildOnly() throws Exception {
    String[] base = {"build", "--expr-file", "x.nix", "--bucket", "b"};
    assertThat(CliOptions.parse(base, Map.of()).emulateKvm()).isFalse();
    assertThat(CliOptions.parse(concat(base, "--kvm-fallback", "emulate"), Map.of()).emulateKvm()).isTrue();
    assertThat(CliOptions.parse(concat(base, "--kvm-fallback", "fail"), Map.of()).emulateKvm()).isFalse();
    assertThatThrownBy(() -> CliOptions.parse(concat(base, "--kvm-fallback", "tcg"), Map.of()))
        .hasMessage("--kvm-fallback must be fail or emulate: tcg");
    assertThatThrownBy(() -> CliOptions.parse(new String[] {"upload", "--file", "f", "--key", "k", "--bucket", "b",
        "--kvm-fallback", "emulate"}, Map.of())).hasMessageContaining("--kvm-fallback is not an option of \"upload\"");
    assertThat(KvmPreflight.name(DISK)).isEqualTo("nixos-disk-image.drv");
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
