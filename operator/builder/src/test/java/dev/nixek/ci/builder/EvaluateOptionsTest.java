package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvaluateOptionsTest {
  private static final List<String> BASE = List.of("evaluate", "--nix-dir", "/opt/nixek/src/nix", "--report-url",
      "http://report:8080", "--job", "ci/hello", "--token-file", "/nixek/eval/token/token");

  private static EvaluateOptions parse(String... more) throws BuilderException {
    List<String> args = new ArrayList<>(BASE);
    args.addAll(List.of(more));
    return EvaluateOptions.parse(args.toArray(String[]::new));
  }

  @Test
  void anInlineJob() throws Exception {
    EvaluateOptions o = parse("--job-file", "/nixek/eval/job/job.nix", "--nixpkgs", "github:NixOS/nixpkgs/abc",
        "--system", "aarch64-linux");
    assertThat(o.jobFile()).isEqualTo(Path.of("/nixek/eval/job/job.nix"));
    assertThat(o.flake()).isNull();
    assertThat(o.namespace()).isEqualTo("ci");
    assertThat(o.jobName()).isEqualTo("hello");
    assertThat(o.system()).isEqualTo("aarch64-linux");
    assertThat(o.reportTimeout()).isEqualTo(Duration.ofSeconds(120));
    assertThat(o.terminationLog()).isEqualTo(Path.of("/dev/termination-log"));
    assertThat(new JobEvaluation(o, java.util.Map.of(), System.out, new LogTail(), new ReportPoster()).command())
        .containsExactly("nix-instantiate", "--eval", "--strict", "--json", "/opt/nixek/src/nix/eval.nix",
            "--extra-experimental-features", "nix-command flakes", "--log-format", "internal-json",
            "--argstr", "jobFile", "/nixek/eval/job/job.nix", "--argstr", "nixpkgs", "github:NixOS/nixpkgs/abc",
            "--argstr", "system", "aarch64-linux", "--argstr", "agentJar", "/opt/nixek/nixek-agent.jar",
            "--read-write-mode", "--option", "restrict-eval", "true",
            "--option", "allow-import-from-derivation", "false", "--option", "allowed-uris", "",
            "-I", "/opt/nixek/src/nix", "-I", "/nixek/eval/job", "-I", "/opt/nixek/nixek-agent.jar");
  }

  /** The sandbox's inputs: allowed URIs in nix's own format, import from derivation only when asked for. */
  @Test
  void allowedUrisAndImportFromDerivation() throws Exception {
    EvaluateOptions o = parse("--job-file", "/j/job.nix", "--nixpkgs", "/srv/nixpkgs", "--allowed-uris",
        " github:NixOS/nixpkgs/abc  https://example.com/x ", "--allow-import-from-derivation");
    assertThat(o.allowedUris()).containsExactly("github:NixOS/nixpkgs/abc", "https://example.com/x");
    assertThat(o.allowImportFromDerivation()).isTrue();
    assertThat(new JobEvaluation(o, java.util.Map.of(), System.out, new LogTail(), new ReportPoster()).command())
        .containsSubsequence("--option", "allowed-uris", "github:NixOS/nixpkgs/abc https://example.com/x")
        .containsSubsequence("--option", "allow-import-from-derivation", "true")
        .containsSubsequence("-I", "/j", "-I", "/opt/nixek/nixek-agent.jar", "-I", "/srv/nixpkgs");
    assertThat(parse("--job-file", "/j").allowedUris()).isEmpty();
    assertThat(parse("--job-file", "/j").allowImportFromDerivation()).isFalse();
    assertThatThrownBy(() -> parse("--job-file", "/j", "--allowed-uris", "https://ok /relative"))
        .hasMessage("--allowed-uris: '/relative' is not a URI prefix (scheme:...)");
    assertThat(EvaluateOptions.USAGE).contains("--allowed-uris", "--allow-import-from-derivation");
  }

  /** The machine gets the image's agent jar unless told otherwise; nix reads a path, so it must be absolute. */
  @Test
  void theAgentJarIsTheImagesByDefaultAndConfigurable() throws Exception {
    assertThat(parse("--job-file", "/j").agentJar()).isEqualTo(Path.of("/opt/nixek/nixek-agent.jar"));
    EvaluateOptions o = parse("--job-file", "/j", "--agent-jar", "/srv/agent/nixek-agent.jar");
    assertThat(new JobEvaluation(o, java.util.Map.of(), System.out, new LogTail(), new ReportPoster()).command())
        .containsSubsequence("--argstr", "agentJar", "/srv/agent/nixek-agent.jar")
        .doesNotContain("/opt/nixek/nixek-agent.jar");
    assertThatThrownBy(() -> parse("--job-file", "/j", "--agent-jar", "agent.jar"))
        .hasMessage("--agent-jar must be an absolute path: agent.jar");
    assertThat(EvaluateOptions.USAGE).contains("--agent-jar PATH");
  }

  @Test
  void aFlakeJob() throws Exception {
    EvaluateOptions o = parse("--flake", "git+https://example.com/r?rev=" + "a".repeat(40), "--attribute",
        "ci.jobs.hello");
    assertThat(new JobEvaluation(o, java.util.Map.of(), System.out, new LogTail(), new ReportPoster()).command())
        .containsSubsequence("--argstr", "flake", "git+https://example.com/r?rev=" + "a".repeat(40), "--argstr",
            "attribute", "ci.jobs.hello")
        .doesNotContain("nixpkgs", "system", "machine");
    assertThat(o.noMachine()).isFalse();
  }

  @Test
  void noMachineLeavesTheMachineUnevaluated() throws Exception {
    EvaluateOptions o = parse("--job-file", "/j", "--no-machine");
    assertThat(o.noMachine()).isTrue();
    assertThat(new JobEvaluation(o, java.util.Map.of(), System.out, new LogTail(), new ReportPoster()).command())
        .containsSubsequence("--arg", "machine", "false", "--read-write-mode");
    assertThatThrownBy(() -> parse("--job-file", "/j", "--no-machine=yes")).hasMessage("--no-machine takes no value");
  }

  @Test
  void badCommandLines() {
    assertThatThrownBy(() -> parse()).hasMessage("give exactly one of --job-file and --flake");
    assertThatThrownBy(() -> parse("--job-file", "/j", "--flake", "x:y")).hasMessage(
        "give exactly one of --job-file and --flake");
    assertThatThrownBy(() -> parse("--flake", "x:y")).hasMessage("--flake needs --attribute");
    assertThatThrownBy(() -> parse("--job-file", "/j", "--attribute", "a")).hasMessage(
        "--attribute is only used with --flake");
    assertThatThrownBy(() -> parse("--job-file", "/j", "--token", "x")).hasMessage("unknown option --token");
    assertThatThrownBy(() -> EvaluateOptions.parse(new String[] {"evaluate", "--nix-dir", "/n", "--job-file", "/j",
        "--report-url", "http://r", "--job", "nonamespace", "--token-file", "/t"}))
        .hasMessageStartingWith("--job must be NAMESPACE/NAME");
    assertThatThrownBy(() -> EvaluateOptions.parse(new String[] {"evaluate", "--nix-dir", "/n", "--job-file", "/j",
        "--report-url", "ftp://r", "--job", "a/b", "--token-file", "/t"}))
        .hasMessage("--report-url must be an http(s) URL");
    assertThatThrownBy(() -> parse("--job-file", "/j", "--report-timeout-seconds", "0"))
        .hasMessage("--report-timeout-seconds must be 1..86400");
  }
}
