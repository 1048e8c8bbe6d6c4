package dev.nixek.ci.builder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The S3 key of an image: {@code --key} verbatim, else {@code PREFIX/IDENTITY/FILE}. The identity defaults to
 * the drvPath's name ({@code <hash>-<name>}), so equal derivations map to one key and a rebuild of the same
 * image finds its earlier upload.
 */
public final class ObjectKey {
  private ObjectKey() {}

  public static String of(CliOptions options, String drvPath, Path image) throws BuilderException {
    if (options.key() != null) {
      return options.key();
    }
    String identity = options.identity() != null ? options.identity() : identityOf(drvPath);
    String prefix = options.keyPrefix() == null ? "" : options.keyPrefix().replaceAll("^/+|/+$", "");
    String key = (prefix.isEmpty() ? "" : prefix + "/") + identity + "/" + image.getFileName();
    if (key.getBytes(StandardCharsets.UTF_8).length > CliOptions.MAX_KEY_BYTES) {
      throw BuilderException.usage("object key longer than " + CliOptions.MAX_KEY_BYTES + " bytes: " + key);
    }
    return key;
  }

  static String identityOf(String drvPath) throws BuilderException {
    if (drvPath == null) {
      throw BuilderException.usage("no drvPath to name the object: pass --key or --identity");
    }
    String name = Path.of(drvPath).getFileName().toString();
    return name.endsWith(".drv") ? name.substring(0, name.length() - ".drv".length()) : name;
  }
}
