package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.optionalHttpUrl;
import static dev.nixek.ci.common.config.Parsers.quantity;
import static dev.nixek.ci.common.config.Parsers.seconds;

import dev.nixek.ci.common.config.ConfigOption;
import dev.nixek.ci.common.config.Parsers;
import dev.nixek.ci.operator.pod.PodLimits;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * How jobs written in Nix ({@code spec.nix}, {@code spec.flake}) are evaluated: in an evaluation pod per job, never in
 * the operator (docs/evaluation.md). The pod runs the builder image's {@code evaluate} command with this
 * repository's {@code nix/} ({@code NIXEK_IMAGE_NIX_DIR}), the operator's nixpkgs pin ({@code NIXEK_IMAGE_NIXPKGS})
 * and system ({@code NIXEK_IMAGE_SYSTEM}), so that an evaluated machine and the image built for it agree. Part of
 * {@link OperatorConfig}.
 *
 * @param image the evaluation pod's container image; empty: the builder image
 * @param command the evaluation pod's command; empty: the builder command
 * @param timeout the pod's activeDeadlineSeconds: an evaluation running longer fails the job
 * @param cpuRequest CPU request ("" for none)
 * @param memoryRequest memory request ("" for none)
 * @param memoryLimit memory limit ("" for none): an evaluation using more is killed and fails the job
 * @param serviceAccount the pod's ServiceAccount; empty: the namespace's default (its token is not mounted)
 * @param reportUrl where the pod posts its result; empty: NIXEK_REPORT_URL
 * @param runner where evaluations run; empty: {@link Runner#LOCAL} with the local provider, else {@link Runner#POD}
 * @param limits CPU limit, ephemeral storage and the {@code /nix} size limit of the pod
 * @param allowedUris URI prefixes every evaluation may fetch from, besides its flake's URL and the nixpkgs pin
 * @param allowImportFromDerivation whether evaluations may build (import from derivation)
 */
public record EvaluationOptions(
    String image,
    List<String> command,
    Duration timeout,
    String cpuRequest,
    String memoryRequest,
    String memoryLimit,
    String serviceAccount,
    Optional<URI> reportUrl,
    Optional<Runner> runner,
    PodLimits limits,
    List<String> allowedUris,
    boolean allowImportFromDerivation) {

  /** Where an evaluation runs: in a pod (any real cluster), or as a local process of the operator. */
  public enum Runner {
    /** An evaluation pod per job (docs/evaluation.md). */
    POD,
    /** A child process of the operator, for where pods cannot run (the demo's embedded API server, no kubelet). */
    LOCAL;

    @Override
    public String toString() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public static final ConfigOption<String> IMAGE = new ConfigOption<>("NIXEK_EVAL_IMAGE", "",
      "container image of evaluation pods (nix, java, nix/ and the builder jar); empty: NIXEK_BUILDER_IMAGE",
      Parsers.matching("\\S+", "an image reference", true));
  public static final ConfigOption<List<String>> COMMAND = new ConfigOption<>("NIXEK_EVAL_COMMAND", "",
      "command of evaluation pods; 'evaluate --nix-dir ... --job ...' is appended; empty: NIXEK_BUILDER_COMMAND",
      optionalCommand());
  public static final ConfigOption<Duration> TIMEOUT = new ConfigOption<>("NIXEK_EVAL_TIMEOUT_SECONDS", "600",
      "activeDeadlineSeconds of evaluation pods: an evaluation running longer ends its job EvaluationFailed",
      seconds(10, 86400));
  public static final ConfigOption<String> CPU = new ConfigOption<>("NIXEK_EVAL_CPU_REQUEST", "500m",
      "CPU request of evaluation pods (none: no request)", quantity());
  public static final ConfigOption<String> MEMORY = new ConfigOption<>("NIXEK_EVAL_MEMORY_REQUEST", "1Gi",
      "memory request of evaluation pods (none: no request)", quantity());
  public static final ConfigOption<String> MEMORY_LIMIT = new ConfigOption<>("NIXEK_EVAL_MEMORY_LIMIT", "4Gi",
      "memory limit of evaluation pods: an evaluation using more is killed and ends its job EvaluationFailed "
      + "(none: no limit)", quantity());
  public static final ConfigOption<String> SERVICE_ACCOUNT = new ConfigOption<>("NIXEK_EVAL_SERVICE_ACCOUNT", "",
      "ServiceAccount of evaluation pods (its API token is never mounted); empty: the namespace's default",
      Parsers.matching("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", "a ServiceAccount name", true));
  public static final ConfigOption<Optional<URI>> REPORT_URL = new ConfigOption<>("NIXEK_EVAL_REPORT_URL", "",
      "base URL of the report API as evaluation pods reach it (e.g. its in-cluster Service); empty: NIXEK_REPORT_URL",
      optionalHttpUrl());

  public static final ConfigOption<Optional<Runner>> RUNNER = new ConfigOption<>("NIXEK_EVAL_RUNNER", "",
      "where jobs written in Nix and repositories' commits are evaluated: 'pod' (an evaluation pod per job or commit) "
      + "or 'local' (a child process of the operator, with the same command, deadline and result channel); empty: "
      + "local with NIXEK_PROVIDER=local, else pod", optionalRunner());

  public static final ConfigOption<String> CPU_LIMIT = new ConfigOption<>("NIXEK_EVAL_CPU_LIMIT", "2",
      "CPU limit of evaluation pods (none: no limit)", quantity());
  public static final ConfigOption<String> STORAGE = new ConfigOption<>("NIXEK_EVAL_STORAGE_REQUEST", "1Gi",
      "ephemeral-storage request of evaluation pods: the Nix store (what the job fetches) and nix's caches (none: "
      + "no request)", quantity());
  public static final ConfigOption<String> STORAGE_LIMIT = new ConfigOption<>("NIXEK_EVAL_STORAGE_LIMIT", "10Gi",
      "ephemeral-storage limit of evaluation pods: an evaluation writing more is evicted and ends its job "
      + "EvaluationFailed (none: no limit)", quantity());
  public static final ConfigOption<String> NIX_SIZE_LIMIT = new ConfigOption<>("NIXEK_EVAL_NIX_SIZE_LIMIT", "8Gi",
      "sizeLimit of evaluation pods' /nix emptyDir (the Nix store): past it the pod is evicted (none: no limit)",
      quantity());
  public static final ConfigOption<List<String>> ALLOWED_URIS = new ConfigOption<>("NIXEK_EVAL_ALLOWED_URIS", "",
      "URI prefixes (comma-separated, nix's allowed-uris: e.g. https://example.com/files, github:) every "
      + "evaluation may fetch from with builtins.fetchurl, fetchTarball, fetchGit, fetchTree, besides its flake's "
      + "URL and NIXEK_IMAGE_NIXPKGS; empty: those two only", uriPrefixes());
  public static final ConfigOption<Boolean> ALLOW_IMPORT_FROM_DERIVATION = new ConfigOption<>(
      "NIXEK_EVAL_ALLOW_IMPORT_FROM_DERIVATION", "false", "let evaluations build derivations (import from "
      + "derivation): the job's build code then runs in the evaluation pod; false: nix refuses it and the job ends "
      + "EvaluationFailed", Parsers.bool());

  public static final List<ConfigOption<?>> OPTIONS = List.of(IMAGE, COMMAND, TIMEOUT, CPU, MEMORY, MEMORY_LIMIT,
      SERVICE_ACCOUNT, REPORT_URL, RUNNER, CPU_LIMIT, STORAGE, STORAGE_LIMIT, NIX_SIZE_LIMIT, ALLOWED_URIS,
      ALLOW_IMPORT_FROM_DERIVATION);

  public static EvaluationOptions fromEnv(Map<String, String> env) {
    String cpu = CPU.read(env);
    String cpuLimit = CPU_LIMIT.read(env);
    String storage = STORAGE.read(env);
    String storageLimit = STORAGE_LIMIT.read(env);
    String memory = MEMORY.read(env);
    String memoryLimit = MEMORY_LIMIT.read(env);
    PodLimits.check(CPU, cpu, CPU_LIMIT, cpuLimit);
    PodLimits.check(MEMORY, memory, MEMORY_LIMIT, memoryLimit);
    PodLimits.check(STORAGE, storage, STORAGE_LIMIT, storageLimit);
    return new EvaluationOptions(IMAGE.read(env), COMMAND.read(env), TIMEOUT.read(env), cpu, memory, memoryLimit,
        SERVICE_ACCOUNT.read(env), REPORT_URL.read(env), RUNNER.read(env),
        new PodLimits(cpuLimit, storage, storageLimit, NIX_SIZE_LIMIT.read(env)), ALLOWED_URIS.read(env),
        ALLOW_IMPORT_FROM_DERIVATION.read(env));
  }

  /** The image evaluation pods run: this option's, else the builder's. */
  public String image(ImageOptions images) {
    return image.isEmpty() ? images.builderImage() : image;
  }

  /** The command evaluation pods run: this option's, else the builder's. */
  public List<String> command(ImageOptions images) {
    return command.isEmpty() ? images.builderCommand() : command;
  }

  /** The report API's URL as evaluation pods reach it. */
  public URI reportUrl(URI operatorReportUrl) {
    return reportUrl.orElse(operatorReportUrl);
  }

  /**
   * Where evaluations run: the configured runner, else local when the machine provider is the local one (jobs run on
   * this host, without an image; where pods may be unable to run, as on the demo's API server), else pods.
   */
  public Runner runnerFor(String providerName, boolean providerRequiresImage) {
    return runner.orElse("local".equals(providerName) && !providerRequiresImage ? Runner.LOCAL : Runner.POD);
  }

  private static Function<String, Optional<Runner>> optionalRunner() {
    return s -> {
      if (s == null || s.isBlank()) {
        return Optional.empty();
      }
      for (Runner r : Runner.values()) {
        if (r.toString().equals(s.strip())) {
          return Optional.of(r);
        }
      }
      throw new IllegalArgumentException("expected 'pod' or 'local' (or empty: chosen by NIXEK_PROVIDER)");
    };
  }

  /** nix's allowed-uris entries: a scheme and what follows, no whitespace (the list is space-separated for nix). */
  private static Function<String, List<String>> uriPrefixes() {
    Function<String, List<String>> list = Parsers.list();
    return s -> {
      List<String> uris = list.apply(s);
      for (String uri : uris) {
        if (!uri.matches("[a-zA-Z][a-zA-Z0-9+.-]*:\\S*")) {
          throw new IllegalArgumentException("'" + uri + "' is not a URI prefix (scheme:..., e.g. "
              + "https://example.com/files or github:)");
        }
      }
      return uris;
    };
  }

  private static Function<String, List<String>> optionalCommand() {
    Function<String, List<String>> command = Parsers.command();
    return s -> s == null || s.isBlank() ? List.of() : command.apply(s);
  }
}
