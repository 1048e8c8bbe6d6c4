package dev.nixek.ci.builder;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The nix options that confine a job's evaluation (docs/evaluation.md#the-sandbox): {@code restrict-eval}, so the
 * job's Nix reads no file but this repository's {@code nix/}, the job file's directory (a ConfigMap volume: its
 * file is a symlink into a {@code ..data} directory beside it, so the file alone is not enough), the agent jar and a
 * nixpkgs given as a path, and fetches only from {@code allowed-uris}; and {@code allow-import-from-derivation}
 * off unless the operator allows it. The store is opened read-write ({@code --read-write-mode}; nix-instantiate's
 * {@code --eval} is read-only otherwise) so that an import from derivation meets nix's own refusal — "cannot build
 * ... because the option 'allow-import-from-derivation' is disabled" — rather than "path ... is not valid", and
 * works when allowed; the store is the pod's own emptyDir.
 *
 * <p>Measured with Nix 2.26.3: {@code builtins.fetchurl}, {@code fetchTarball}, {@code fetchGit} and
 * {@code fetchTree} check {@code allowed-uris}; {@code builtins.getFlake} does not (it is how the job's flake and
 * the nixpkgs pin are read, and a job can call it too), so the pods' NetworkPolicy is what keeps it from the
 * metadata endpoint and the cluster's services. {@code pure-eval} is not used: it forbids reading {@code eval.nix}
 * itself (not a store path).
 */
final class EvaluationSandbox {
  private EvaluationSandbox() {}

  /** The options to append to the nix-instantiate command line. */
  static List<String> arguments(EvaluateOptions options) {
    List<String> argv = new ArrayList<>(List.of("--read-write-mode",
        "--option", "restrict-eval", "true",
        "--option", "allow-import-from-derivation", Boolean.toString(options.allowImportFromDerivation()),
        "--option", "allowed-uris", String.join(" ", options.allowedUris()),
        "-I", options.nixDir().toAbsolutePath().toString()));
    if (options.jobFile() != null) {
      Path dir = options.jobFile().toAbsolutePath().getParent();
      argv.addAll(List.of("-I", dir.toString()));
    }
    argv.addAll(List.of("-I", options.agentJar().toString()));
    if (options.nixpkgs() != null && options.nixpkgs().startsWith("/")) {
      argv.addAll(List.of("-I", options.nixpkgs()));
    }
    return argv;
  }
}
