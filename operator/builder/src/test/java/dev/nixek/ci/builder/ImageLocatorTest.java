package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageLocatorTest {
  @TempDir
  Path out;

  private final ImageLocator locator = new ImageLocator();

  private Path file(String relative) throws Exception {
    Path path = out.resolve(relative);
    Files.createDirectories(path.getParent());
    return Files.writeString(path, "disk");
  }

  @Test
  void imageInfoWithDisksRootFileAsAmazonImageNixWritesIt() throws Exception {
    Path image = file("nixos-amazon-image-25.05.x86_64-linux.vhd");
    file("nix-support/image-info.json");
    Files.writeString(out.resolve(ImageLocator.IMAGE_INFO), """
        {"label":"25.05","boot_mode":"uefi","system":"x86_64-linux",
         "disks":{"root":{"logical_bytes":"4294967296","file":"%s"}}}""".formatted(image));
    assertThat(locator.locate(out)).isEqualTo(new DiskImage(image, DiskFormat.VHD, "uefi", "x86_64-linux"));
  }

  @Test
  void imageInfoWithTopLevelRelativeFile() throws Exception {
    Path image = file("disk.vmdk");
    file("other.raw");
    Files.createDirectories(out.resolve("nix-support"));
    Files.writeString(out.resolve(ImageLocator.IMAGE_INFO), "{\"file\":\"disk.vmdk\",\"boot_mode\":\"legacy-bios\"}");
    assertThat(locator.locate(out)).isEqualTo(new DiskImage(image, DiskFormat.VMDK, "legacy-bios", null));
  }

  @Test
  void imageInfoNamingNothingUsableIsABuildFailure() throws Exception {
    Files.createDirectories(out.resolve("nix-support"));
    Files.writeString(out.resolve(ImageLocator.IMAGE_INFO), "{\"boot_mode\":\"uefi\"}");
    assertThatThrownBy(() -> locator.locate(out)).isInstanceOf(BuilderException.class).hasMessageContaining("names no image");
    Files.writeString(out.resolve(ImageLocator.IMAGE_INFO), "{\"file\":\"missing.vhd\"}");
    assertThatThrownBy(() -> locator.locate(out)).hasMessageContaining("not a regular file");
    Files.writeString(out.resolve(ImageLocator.IMAGE_INFO), "{not json");
    assertThatThrownBy(() -> locator.locate(out)).hasMessageContaining("cannot parse");
    file("disk.qcow2");
    Files.writeString(out.resolve(ImageLocator.IMAGE_INFO), "{\"file\":\"disk.qcow2\"}");
    assertThatThrownBy(() -> locator.locate(out)).hasMessageContaining("unsupported disk image format");
  }

  @Test
  void withoutImageInfoTheSingleImageFileIsUsed() throws Exception {
    file("nix-support/hydra-build-products");
    file("README.txt");
    Path image = file("sub/disk.IMG");
    assertThat(locator.locate(out)).isEqualTo(new DiskImage(image, DiskFormat.RAW, null, null));
  }

  @Test
  void noImageOrSeveralImagesAreBuildFailures() throws Exception {
    file("README.txt");
    assertThatThrownBy(() -> locator.locate(out))
        .isInstanceOfSatisfying(BuilderException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.BUILD_FAILED))
        .hasMessageContaining("no disk image");
    file("a.raw");
    file("b.vhd");
    assertThatThrownBy(() -> locator.locate(out)).hasMessageContaining("several disk images").hasMessageContaining("a.raw, b.vhd");
  }

  @Test
  void symlinksAreNotCandidates() throws Exception {
    Path elsewhere = Files.createTempFile("elsewhere", ".raw");
    try {
      Files.createSymbolicLink(out.resolve("link.raw"), elsewhere);
      assertThatThrownBy(() -> locator.locate(out)).hasMessageContaining("no disk image");
    } finally {
      Files.delete(elsewhere);
    }
  }

  @Test
  void anOutputThatIsItselfAnImageFile() throws Exception {
    Path image = file("abc-disk.raw");
    assertThat(locator.locate(image)).isEqualTo(new DiskImage(image, DiskFormat.RAW, null, null));
    assertThatThrownBy(() -> locator.locate(out.resolve("missing"))).hasMessageContaining("does not exist");
  }

  @Test
  void formatsFollowTheExtension() {
    assertThat(DiskFormat.fromFileName("x.vhd")).contains(DiskFormat.VHD);
    assertThat(DiskFormat.fromFileName("x.VMDK")).contains(DiskFormat.VMDK);
    assertThat(DiskFormat.fromFileName("x.raw")).contains(DiskFormat.RAW);
    assertThat(DiskFormat.fromFileName("x.img")).contains(DiskFormat.RAW);
    assertThat(DiskFormat.fromFileName("x.qcow2")).isEmpty();
    assertThat(DiskFormat.fromFileName("vhd")).isEmpty();
  }
}
