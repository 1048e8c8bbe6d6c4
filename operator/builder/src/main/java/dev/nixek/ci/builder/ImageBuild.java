package dev.nixek.ci.builder;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The {@code build} command: build, find the image and its drvPath, upload, describe the result. */
final class ImageBuild {
  /** S3 metadata keys (sent as {@code x-amz-meta-*}) next to {@link MultipartUploader#SHA256_METADATA}. */
  static final String DRV_PATH_METADATA = "drv-path";
  static final String OUT_PATH_METADATA = "out-path";

  private final CliOptions options;
  private final Map<String, String> environment;
  private final OutputStream log;
  private final LogTail tail;

  ImageBuild(CliOptions options, Map<String, String> environment, OutputStream log, LogTail tail) {
    this.options = options;
    this.environment = environment;
    this.log = log;
    this.tail = tail;
  }

  ImageResult run() throws BuilderException, InterruptedException {
    Map<String, String> env = new HashMap<>(environment);
    if (options.exprFile() != null) {
      if (!Files.isRegularFile(options.exprFile())) {
        throw BuilderException.usage("--expr-file " + options.exprFile() + " is not a file");
      }
      env.put(BuildCommand.EXPR_ENV, options.exprFile().toAbsolutePath().toString());
    }
    boolean defaultCommand = BuildCommand.DEFAULT_COMMAND.equals(options.buildCommand());
    String expr = env.get(BuildCommand.EXPR_ENV);
    env = new HashMap<>(new KvmPreflight(KvmDevice.of(environment), options.emulateKvm(), new KvmDerivations())
        .prepare(env, defaultCommand && expr != null ? Path.of(expr) : null));
    Path outPath = new BuildCommand(options.buildCommand(), env, log, tail).run();
    DiskImage image = new ImageLocator().locate(outPath);
    String drvPath = options.drvPath() != null ? options.drvPath() : new DeriverQuery().deriverOf(outPath);
    if (options.expectDrvPath() != null && !options.expectDrvPath().equals(drvPath)) {
      // the evaluation pod and this pod must carry the same nix/ and agent jar, and the same nixpkgs
      throw BuilderException.build("built " + drvPath + ", but the job's evaluation gave " + options.expectDrvPath()
          + ": the evaluation and the builder do not agree (same nix/, agent jar and nixpkgs?)");
    }
    String key = ObjectKey.of(options, drvPath, image.file());
    // the build command is the operator's choice (a shell command line): the Nix it used is the one its shell finds
    String nixVersion = NixVersion.ofShell(env).orElse(null);

    UploadResult upload;
    if (options.uploadGrant() != null) {
      // no AWS identity: the operator's presigned part URLs of this one key, completed by the operator
      upload = new PresignedUpload(options.partSizeBytes()).upload(image.file(),
          PresignedUpload.Grant.read(options.uploadGrant()), options.bucket(), key);
    } else {
      Map<String, String> metadata = Map.of(DRV_PATH_METADATA, drvPath, OUT_PATH_METADATA, outPath.toString());
      upload = S3Upload.run(options, image.file(), key, metadata);
    }
    ImageResult result = new ImageResult(options.bucket(), key, upload.size(), upload.sha256(), drvPath,
        outPath.toString(), image.format(), image.bootMode(), image.system(), nixVersion, upload.uploaded());
    if (options.cacheGrant() != null) {
      // after the image: the cache is an optimisation, and its step never fails the build
      result = result.withCache(new CacheStep(env, options.partSizeBytes(),
          Path.of(System.getProperty("java.io.tmpdir"))).run(drvPath, options.cacheGrant()));
    }
    return result;
  }
}
