package dev.nixek.ci.operator.evaluation;

import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A repository's commit evaluations where pods cannot run (docs/repositories.md, "Where pods cannot run"): the commit
 * evaluation pod's {@code job-names} command, derived from the pod itself ({@link LocalEvaluationCommand#commitArgv})
 * so the two cannot drift, run as a child process of the operator with the pod's deadline and memory limit, the
 * evaluation's inherited environment only, and its answer read from its termination log as a pod's would be. As an
 * event source it wakes the repository when a process ends, and kills every process when the operator stops. Runs are
 * known only to this process: a restarted operator evaluates the commit again.
 */
public final class LocalCommitEvaluations extends AbstractEventSource<LocalEvaluation, NixekRepository> {
  private static final Logger LOG = LoggerFactory.getLogger(LocalCommitEvaluations.class);

  /** Where a commit's local evaluation is. */
  public sealed interface Progress {
    /** Running; the message says so. */
    record Running(String message) implements Progress {}

    /** Ended with exit code 0: {@code message} is its termination message (the answer), null if it wrote none. */
    record Answered(String message) implements Progress {}

    /** Failed: nix's error, the deadline, or the process's own failure. */
    record Failed(String message) implements Progress {}
  }

  private final OperatorConfig config;
  private final Path workDir;
  private final Map<String, String> environment;
  /** By the evaluation pod's name (repository UID, commit, attribute); an ended run stays until it is released. */
  private final Map<String, LocalEvaluation> runs = new ConcurrentHashMap<>();

  /**
   * @param workDir where each run gets its private directory
   * @param environment the operator's environment (only {@link LocalEvaluationCommand#INHERITED} is passed on)
   */
  public LocalCommitEvaluations(OperatorConfig config, Path workDir, Map<String, String> environment) {
    super(LocalEvaluation.class, "local-commit-evaluations");
    this.config = config;
    this.workDir = workDir;
    this.environment = Map.copyOf(environment);
  }

  /** With the operator's temporary directory and environment. */
  public LocalCommitEvaluations(OperatorConfig config) {
    this(config, Path.of(System.getProperty("java.io.tmpdir"), "nixek-commit-evaluations"), System.getenv());
  }

  /**
   * Where the evaluation that {@code pod} describes is; starts its process when it has none, with the repository's
   * token ({@code forgeToken}, null for none) in the run's private directory where the pod would mount it.
   */
  public Progress progress(NixekRepository repo, Pod pod, String commit, String forgeToken) {
    String key = pod.getMetadata().getName();
    LocalEvaluation run = runs.get(key);
    if (run == null) {
      String label = repo.getMetadata().getNamespace() + "/" + repo.getMetadata().getName() + " at " + commit;
      ResourceID id = ResourceID.fromResource(repo);
      try {
        run = LocalEvaluation.start(label, workDir, null, null, forgeToken,
            files -> LocalEvaluationCommand.commitArgv(pod, files),
            environment, config.evaluation().timeout(), config.evaluation(), ended -> {
              if (isRunning()) {
                getEventHandler().handleEvent(new Event(id));
              }
            });
      } catch (IOException | RuntimeException e) {
        return new Progress.Failed("cannot start the local commit evaluation: " + e.getMessage());
      }
      runs.put(key, run);
      LOG.info("repository {}: evaluating the jobs of {} in a local process (pid {})",
          repo.getMetadata().getNamespace() + "/" + repo.getMetadata().getName(), commit, run.pid());
    }
    LocalEvaluation.Verdict verdict = run.verdict();
    if (verdict == null) {
      return new Progress.Running("evaluating the jobs of " + commit + " in a local process (pid " + run.pid() + ")");
    }
    return verdict instanceof LocalEvaluation.Verdict.Ended e ? new Progress.Answered(e.message())
        : new Progress.Failed(((LocalEvaluation.Verdict.Failed) verdict).message());
  }

  /** Forgets the run of {@code podName} (its answer is used), killing it if it still runs. */
  public void release(String podName) {
    LocalEvaluation run = runs.remove(podName);
    if (run != null && run.verdict() == null) {
      run.stop();
    }
  }

  @Override
  public Set<LocalEvaluation> getSecondaryResources(NixekRepository primary) {
    return Set.of();
  }

  /** The operator stops: no evaluation outlives it. */
  @Override
  public void stop() {
    runs.values().stream().filter(r -> r.verdict() == null).forEach(LocalEvaluation::stop);
    super.stop();
  }
}
