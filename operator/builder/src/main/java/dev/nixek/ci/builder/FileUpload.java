package dev.nixek.ci.builder;

import java.nio.file.Files;
import java.util.Map;

/**
 * The hidden {@code upload} command: upload a given file exactly as {@code build} uploads its image. It exists
 * for the benchmark (which must measure the production code path) and to retry an upload by hand.
 */
final class FileUpload {
  private final CliOptions options;

  FileUpload(CliOptions options) {
    this.options = options;
  }

  ImageResult run() throws BuilderException, InterruptedException {
    if (!Files.isRegularFile(options.file())) {
      throw BuilderException.usage("--file " + options.file() + " is not a regular file");
    }
    String key = ObjectKey.of(options, options.drvPath(), options.file());
    Map<String, String> metadata = options.drvPath() == null
        ? Map.of() : Map.of(ImageBuild.DRV_PATH_METADATA, options.drvPath());
    UploadResult upload = S3Upload.run(options, options.file(), key, metadata);
    return new ImageResult(options.bucket(), key, upload.size(), upload.sha256(), options.drvPath(), null,
        DiskFormat.fromFileName(options.file().getFileName().toString()).orElse(null), null, null,
        null, upload.uploaded());
  }
}
