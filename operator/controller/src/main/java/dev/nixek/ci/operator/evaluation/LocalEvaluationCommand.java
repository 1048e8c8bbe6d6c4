package dev.nixek.ci.operator.evaluation;

import dev.nixek.ci.operator.pod.OneShotNixPod;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command line and environment of a local evaluation, derived from the evaluation pod's own
 * ({@link EvaluationPods#pod}) so the two cannot drift apart: the pod's mounts become this run's private files, the
 * job's machine is left unevaluated when the provider boots none ({@code --no-machine}), and the pod's memory limit
 * becomes an {@code RLIMIT_DATA} of the shell that execs the command (inherited by the builder JVM and by
 * nix-instantiate, each held to it: a process has no cgroup to hold their sum, as a pod's limit does).
 */
final class LocalEvaluationCommand {
  /** The evaluate flag that leaves the machine unevaluated. */
  static final String NO_MACHINE = "--no-machine";

  /**
   * Variables a local evaluation inherits from the operator: what finds and runs java and nix, nothing else — the
   * operator's environment holds its Kubernetes and AWS credentials, and the job's Nix code can read the
   * environment ({@code builtins.getEnv}).
   */
  static final Set<String> INHERITED = Set.of("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "JAVA_HOME",
      "NIX_PATH", "NIX_CONFIG", "NIX_REMOTE", "NIX_CONF_DIR", "NIX_USER_CONF_FILES", "NIX_SSL_CERT_FILE",
      "NIX_STORE_DIR", "NIX_STATE_DIR", "NIX_LOG_DIR", "NIX_DATA_DIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME",
      "XDG_STATE_HOME", "SSL_CERT_FILE", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
      "NO_PROXY");

  /** The private files of one run that stand in for the pod's mounts. */
  record Files(Path dir, Path jobFile, Path tokenFile, Path forgeTokenFile, Path terminationLog) {
    static Files in(Path dir) {
      return new Files(dir, dir.resolve(EvaluationPods.JOB_FILE), dir.resolve(EvaluationPods.TOKEN_KEY),
          dir.resolve(EvaluationPods.FORGE_TOKEN_KEY), dir.resolve("termination-log"));
    }
  }

  private LocalEvaluationCommand() {}

  /**
   * The argv: the pod container's command with its mount paths replaced by {@code files}, {@value #NO_MACHINE}
   * appended when {@code skipMachine}, under {@code sh -c 'ulimit -d'} when the pod has a memory limit.
   */
  static List<String> argv(Pod pod, Files files, boolean skipMachine) {
    return argv(pod, files, skipMachine, true);
  }

  /**
   * The argv of a commit evaluation pod's {@code job-names} command: only its termination log (and the repository's
   * token file, when it has one) is a mount to replace (it has no job file and no evaluation token), under the same
   * memory limit.
   */
  static List<String> commitArgv(Pod pod, Files files) {
    return argv(pod, files, false, false);
  }

  private static List<String> argv(Pod pod, Files files, boolean skipMachine, boolean withToken) {
    var container = pod.getSpec().getContainers().stream()
        .filter(c -> EvaluationPods.CONTAINER.equals(c.getName())).findFirst()
        .orElseThrow(() -> new IllegalStateException("the evaluation pod has no container " + EvaluationPods.CONTAINER));
    Map<String, String> replaced = new LinkedHashMap<>();
    replaced.put(EvaluationPods.JOB_MOUNT + "/" + EvaluationPods.JOB_FILE, files.jobFile().toString());
    replaced.put(EvaluationPods.TOKEN_MOUNT + "/" + EvaluationPods.TOKEN_KEY, files.tokenFile().toString());
    replaced.put(EvaluationPods.FORGE_TOKEN_MOUNT + "/" + EvaluationPods.FORGE_TOKEN_FILE,
        files.forgeTokenFile().toString());
    replaced.put(OneShotNixPod.TERMINATION_LOG, files.terminationLog().toString());
    List<String> command = new ArrayList<>();
    for (String arg : container.getCommand()) {
      command.add(replaced.getOrDefault(arg, arg));
    }
    // every mount path must have been found: an evaluation pod that changed shape must not run half-translated
    for (String mount : withToken ? List.of(EvaluationPods.TOKEN_MOUNT + "/" + EvaluationPods.TOKEN_KEY,
        OneShotNixPod.TERMINATION_LOG) : List.of(OneShotNixPod.TERMINATION_LOG)) {
      if (!container.getCommand().contains(mount)) {
        throw new IllegalStateException("the evaluation pod's command does not name " + mount);
      }
    }
    if (skipMachine) {
      command.add(NO_MACHINE);
    }
    Quantity limit = container.getResources() == null || container.getResources().getLimits() == null ? null
        : container.getResources().getLimits().get("memory");
    if (limit == null) {
      return List.copyOf(command);
    }
    long kib = Math.max(1, Quantity.getAmountInBytes(limit).longValue() / 1024);
    List<String> wrapped = new ArrayList<>(List.of("/bin/sh", "-c", "ulimit -d \"$1\" && shift && exec \"$@\"",
        "nixek-evaluate", Long.toString(kib)));
    wrapped.addAll(command);
    return List.copyOf(wrapped);
  }

  /** The environment: {@link #INHERITED} from {@code operator}, and this run's directory as TMPDIR. */
  static Map<String, String> environment(Map<String, String> operator, Files files) {
    Map<String, String> env = new LinkedHashMap<>();
    operator.forEach((k, v) -> {
      if (INHERITED.contains(k)) {
        env.put(k, v);
      }
    });
    env.put("TMPDIR", files.dir().toString());
    return env;
  }
}
