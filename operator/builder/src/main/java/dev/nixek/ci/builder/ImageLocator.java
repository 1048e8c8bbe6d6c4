package dev.nixek.ci.builder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Finds the disk image in a Nix build output. NixOS image builds ({@code system.build.images.amazon})
 * describe themselves in {@code nix-support/image-info.json}; any other output must hold exactly one file
 * whose extension names a format ImportSnapshot accepts. An output that is itself such a file also works.
 */
public final class ImageLocator {
  static final String IMAGE_INFO = "nix-support/image-info.json";
  /** Deep enough for {@code $out/<dir>/<image>}; a disk image is never buried deeper in practice. */
  private static final int SCAN_DEPTH = 3;

  private final ObjectMapper json = new ObjectMapper();

  public DiskImage locate(Path outPath) throws BuilderException {
    if (Files.isRegularFile(outPath)) {
      return new DiskImage(outPath, formatOf(outPath), null, null);
    }
    if (!Files.isDirectory(outPath)) {
      throw BuilderException.build("build output does not exist: " + outPath);
    }
    Path info = outPath.resolve(IMAGE_INFO);
    if (Files.isRegularFile(info)) {
      return fromImageInfo(outPath, info);
    }
    return scan(outPath);
  }

  private DiskImage fromImageInfo(Path outPath, Path info) throws BuilderException {
    JsonNode root;
    try {
      root = json.readTree(info.toFile());
    } catch (IOException e) {
      throw BuilderException.build("cannot parse " + info + ": " + e.getMessage(), e);
    }
    // amazon-image.nix writes disks.root.file (and disks.boot.file for ZFS); older images a top-level file
    String file = text(root.get("file"));
    if (file == null) {
      file = text(root.at("/disks/root/file"));
    }
    if (file == null) {
      throw BuilderException.build(info + " names no image file (neither \"file\" nor \"disks.root.file\")");
    }
    Path image = outPath.resolve(file);
    if (!Files.isRegularFile(image)) {
      throw BuilderException.build(info + " names " + file + ", which is not a regular file");
    }
    return new DiskImage(image, formatOf(image), text(root.get("boot_mode")), text(root.get("system")));
  }

  private static DiskImage scan(Path outPath) throws BuilderException {
    List<Path> candidates;
    try (Stream<Path> files = Files.walk(outPath, SCAN_DEPTH)) {
      // no symlinks: a store path's link may point anywhere, and the image is a file of this output
      candidates = files
          .filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
          .filter(p -> DiskFormat.fromFileName(p.getFileName().toString()).isPresent())
          .sorted()
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw BuilderException.build("cannot list build output " + outPath + ": " + e.getMessage(), e);
    }
    if (candidates.isEmpty()) {
      throw BuilderException.build("no disk image (.vhd, .vmdk, .raw, .img) and no " + IMAGE_INFO + " in " + outPath);
    }
    if (candidates.size() > 1) {
      throw BuilderException.build("several disk images in " + outPath + ": "
          + candidates.stream().map(p -> outPath.relativize(p).toString()).collect(Collectors.joining(", ")));
    }
    Path image = candidates.get(0);
    return new DiskImage(image, formatOf(image), null, null);
  }

  private static DiskFormat formatOf(Path image) throws BuilderException {
    String name = image.getFileName().toString();
    return DiskFormat.fromFileName(name).orElseThrow(() -> BuilderException.build(
        "unsupported disk image format: " + name + " (EC2 ImportSnapshot takes .vhd, .vmdk, .raw/.img)"));
  }

  private static String text(JsonNode node) {
    return node != null && node.isTextual() && !node.asText().isBlank() ? node.asText() : null;
  }
}
