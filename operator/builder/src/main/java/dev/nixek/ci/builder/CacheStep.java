package dev.nixek.ci.builder;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.nixek.ci.builder.cache.CacheExport;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The builder's {@code --cache-grant} step (docs/images.md#binary-cache): after the image is uploaded, what this pod
 * built for the derivation ({@link CacheExport}: unsigned, no key in the pod) is zipped into one bundle and uploaded
 * as one object through the operator's presigned part URLs of the domain's {@code staging/} key, the way the image
 * goes. The operator checks, signs and publishes it. A failure here never fails the build: the image is good
 * without it; the outcome says what happened and the operator logs it.
 */
final class CacheStep {
  private static final Logger LOG = LoggerFactory.getLogger(CacheStep.class);
  /** Bounded: the outcome goes into the 4 KiB termination message beside the image's result. */
  static final int MAX_ERROR_CHARS = 300;

  /**
   * What was pushed: the bundle's size in bytes and the store paths in it ({@code size} 0 and no upload when the
   * build made nothing besides the image), or why nothing was ({@code error}; size -1).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({"size", "paths", "error"})
  public record Outcome(long size, int paths, String error) {
    static Outcome failed(String error) {
      String line = error == null ? "unknown error" : error.replaceAll("\\s+", " ").strip();
      return new Outcome(-1, 0, line.length() > MAX_ERROR_CHARS ? line.substring(0, MAX_ERROR_CHARS - 1) + "…" : line);
    }
  }

  private final Map<String, String> environment;
  private final int partSize;
  private final Path workRoot;

  CacheStep(Map<String, String> environment, int partSize, Path workRoot) {
    this.environment = Map.copyOf(environment);
    this.partSize = partSize;
    this.workRoot = workRoot;
  }

  Outcome run(String drvPath, Path grantFile) throws InterruptedException {
    Path work = null;
    try {
      PresignedUpload.Grant grant = PresignedUpload.Grant.read(grantFile);
      CacheExport export = new CacheExport(List.of(), environment);
      List<String> paths = export.builtHere(drvPath);
      if (paths.isEmpty()) {
        LOG.info("binary cache: this build made nothing besides the image; nothing to push");
        return new Outcome(0, 0, null);
      }
      work = Files.createTempDirectory(workRoot, "nixek-cache-");
      Path cacheDir = work.resolve("cache");
      export.copyTo(cacheDir, paths);
      Path bundle = work.resolve("bundle.zip");
      int count;
      try (OutputStream out = Files.newOutputStream(bundle)) {
        count = CacheExport.bundle(cacheDir, out);
      }
      UploadResult upload = new PresignedUpload(partSize).upload(bundle, grant, grant.bucket(), grant.key());
      LOG.info("binary cache: pushed {} store paths ({} bytes) for the operator to publish", count, upload.size());
      return new Outcome(upload.size(), count, null);
    } catch (BuilderException | IOException | RuntimeException e) {
      LOG.warn("binary cache: nothing pushed (the image is not affected): {}", e.getMessage());
      return Outcome.failed(e.getMessage());
    } finally {
      if (work != null) {
        deleteTree(work);
      }
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.debug("cannot remove {}: {}", dir, e.toString());
    }
  }
}
