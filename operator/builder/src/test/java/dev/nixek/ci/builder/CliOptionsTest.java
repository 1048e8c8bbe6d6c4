package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CliOptionsTest {

  private static CliOptions parse(String... args) throws BuilderException {
    return CliOptions.parse(args, Map.of());
  }

  private static void assertUsageError(String message, String... args) {
    assertThatThrownBy(() -> parse(args))
        .isInstanceOfSatisfying(BuilderException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE))
        .hasMessageContaining(message);
  }

  @Test
  void buildWithEveryOption() throws Exception {
    CliOptions o = parse("build", "--expr-file", "/etc/nixek/image.nix", "--build-command", "my-build",
        "--drv-path", "/nix/store/x.drv", "--bucket", "b", "--key-prefix", "p", "--identity", "id",
        "--region", "eu-west-1", "--endpoint=http://127.0.0.1:9000", "--path-style", "--part-size-mib", "64",
        "--termination-log", "/tmp/t");
    assertThat(o.command()).isEqualTo("build");
    assertThat(o.exprFile()).isEqualTo(Path.of("/etc/nixek/image.nix"));
    assertThat(o.buildCommand()).isEqualTo("my-build");
    assertThat(o.drvPath()).isEqualTo("/nix/store/x.drv");
    assertThat(o.bucket()).isEqualTo("b");
    assertThat(o.keyPrefix()).isEqualTo("p");
    assertThat(o.identity()).isEqualTo("id");
    assertThat(o.region()).isEqualTo("eu-west-1");
    assertThat(o.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9000"));
    assertThat(o.pathStyle()).isTrue();
    assertThat(o.partSizeBytes()).isEqualTo(64 * 1024 * 1024);
    assertThat(o.terminationLog()).isEqualTo(Path.of("/tmp/t"));
    assertThat(o.help()).isFalse();
  }

  @Test
  void defaults() throws Exception {
    CliOptions o = parse("build", "--expr-file", "/e.nix", "--bucket", "b");
    assertThat(o.buildCommand()).isEqualTo(BuildCommand.DEFAULT_COMMAND);
    assertThat(o.partSizeMib()).isEqualTo(16);
    assertThat(o.keyPrefix()).isEqualTo("images");
    assertThat(o.key()).isNull();
    assertThat(o.pathStyle()).isFalse();
    assertThat(o.endpoint()).isNull();
    assertThat(o.terminationLog()).isEqualTo(Path.of("/dev/termination-log"));
  }

  @Test
  void anUploadGrantIsForOneNamedKey() throws Exception {
    CliOptions o = parse("build", "--expr-file", "/e.nix", "--bucket", "b", "--key", "p/h/disk-image",
        "--upload-grant", "/nixek/upload/upload.json");
    assertThat(o.uploadGrant()).isEqualTo(java.nio.file.Path.of("/nixek/upload/upload.json"));
    assertThat(o.key()).isEqualTo("p/h/disk-image");
    assertUsageError("--upload-grant needs --key", "build", "--expr-file", "/e.nix", "--bucket", "b",
        "--upload-grant", "/g.json");
    assertThat(parse("build", "--expr-file", "/e.nix", "--bucket", "b").uploadGrant()).isNull();
  }

  @Test
  void theDefaultBuildCommandNeedsAnExpression() throws Exception {
    assertUsageError("--expr-file is required", "build", "--bucket", "b");
    assertThat(CliOptions.parse(new String[] {"build", "--bucket", "b"}, Map.of("NIXEK_IMAGE_EXPR", "/e.nix"))
        .exprFile()).isNull();
    assertThat(parse("build", "--bucket", "b", "--build-command", "true").exprFile()).isNull();
  }

  @Test
  void usageErrors() {
    assertUsageError("no command", new String[0]);
    assertUsageError("unknown command", "deploy");
    assertUsageError("--bucket is required", "build", "--expr-file", "/e");
    assertUsageError("unknown option --bukket", "build", "--bukket", "b");
    assertUsageError("needs a value", "build", "--bucket");
    assertUsageError("given twice", "build", "--bucket", "a", "--bucket", "b");
    assertUsageError("takes no value", "build", "--bucket", "a", "--path-style=yes");
    assertUsageError("5..2047", "build", "--expr-file", "/e", "--bucket", "b", "--part-size-mib", "4");
    assertUsageError("5..2047", "build", "--expr-file", "/e", "--bucket", "b", "--part-size-mib", "2048");
    assertUsageError("not a number", "build", "--expr-file", "/e", "--bucket", "b", "--part-size-mib", "16M");
    assertUsageError("--key excludes", "build", "--expr-file", "/e", "--bucket", "b", "--key", "k", "--key-prefix", "p");
    assertUsageError("control characters", "build", "--expr-file", "/e", "--bucket", "b", "--key", "a\nb");
    assertUsageError("1..1024", "build", "--expr-file", "/e", "--bucket", "b", "--key", "k".repeat(1025));
    assertUsageError("without '/'", "build", "--expr-file", "/e", "--bucket", "b", "--identity", "a/b");
    assertUsageError("http(s) URL", "build", "--expr-file", "/e", "--bucket", "b", "--endpoint", "ftp://x");
    assertUsageError("not an option of \"build\"", "build", "--expr-file", "/e", "--bucket", "b", "--file", "f");
    assertUsageError("not an option of \"upload\"", "upload", "--file", "f", "--bucket", "b", "--key", "k",
        "--expr-file", "/e");
    assertUsageError("--file is required", "upload", "--bucket", "b", "--key", "k");
    assertUsageError("to name the object", "upload", "--file", "f", "--bucket", "b");
  }

  @Test
  void uploadCommand() throws Exception {
    CliOptions o = parse("upload", "--file", "/tmp/disk.raw", "--bucket", "b", "--key", "k");
    assertThat(o.command()).isEqualTo("upload");
    assertThat(o.file()).isEqualTo(Path.of("/tmp/disk.raw"));
    assertThat(o.buildCommand()).isNull();
  }

  @Test
  void help() throws Exception {
    assertThat(parse("--help").help()).isTrue();
    assertThat(parse("build", "--help").help()).isTrue();
    assertThat(CliOptions.USAGE).contains("--expr-file", "--build-command", "--drv-path", "--bucket", "--key ",
        "--key-prefix", "--identity", "--region", "--endpoint", "--path-style", "--part-size-mib",
        "--termination-log").doesNotContain("upload --file");
  }

  @Test
  void terminationLogIsFoundEvenInArgumentsThatDoNotParse() {
    assertThat(CliOptions.terminationLogOf(new String[] {"build", "--bogus", "--termination-log", "/tmp/x"}))
        .isEqualTo(Path.of("/tmp/x"));
    assertThat(CliOptions.terminationLogOf(new String[] {"--termination-log=/tmp/y"})).isEqualTo(Path.of("/tmp/y"));
    assertThat(CliOptions.terminationLogOf(new String[] {"build"})).isEqualTo(Path.of("/dev/termination-log"));
  }
}
