package dev.nixek.ci.operator.evaluation;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.job.FlakeRules;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluation where pods cannot run (docs/evaluation.md, "Where pods cannot run"): each job's evaluation is a child
 * process of the operator ({@link LocalEvaluation}) with the evaluation pod's command, deadline and result channel —
 * the builder posts the result to the report API with the job's evaluation token, whose record is made exactly as for
 * a pod. As an event source it wakes a job when its process ends, and kills every process when the operator stops.
 * Nothing survives the operator: runs are known only to this process, so a restarted operator starts a fresh
 * evaluation (the token is the same, and the report API takes one result).
 */
public final class LocalEvaluations extends AbstractEventSource<LocalEvaluation, NixekJob> {
  private static final Logger LOG = LoggerFactory.getLogger(LocalEvaluations.class);

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final JobTokens tokens;
  private final EventRecorder events;
  private final EvaluationPods pods;
  private final EvaluationTokens forgeTokens;
  private final Path workDir;
  private final Map<String, String> environment;
  private final boolean skipMachine;
  /** By job UID; a run that ended stays, so that a late reconcile of its job does not start another. */
  private final Map<String, LocalEvaluation> runs = new ConcurrentHashMap<>();

  /**
   * @param workDir where each run gets its private directory
   * @param environment the operator's environment (only {@link LocalEvaluationCommand#INHERITED} is passed on)
   * @param skipMachine whether jobs' machines are left unevaluated: the provider boots none
   */
  public LocalEvaluations(KubernetesClient client, OperatorConfig config, JobTokens tokens,
      EventRecorder events, Path workDir, Map<String, String> environment,
      boolean skipMachine, EvaluationTokens forgeTokens) {
    super(LocalEvaluation.class, "local-evaluations");
    this.client = client;
    this.config = config;
    this.tokens = tokens;
    this.events = events;
    this.pods = new EvaluationPods(config);
    this.forgeTokens = forgeTokens;
    this.workDir = workDir;
    this.environment = Map.copyOf(environment);
    this.skipMachine = skipMachine;
  }

  /** With the operator's temporary directory and environment. */
  public LocalEvaluations(KubernetesClient client, OperatorConfig config, JobTokens tokens,
      EventRecorder events, boolean skipMachine, EvaluationTokens forgeTokens) {
    this(client, config, tokens, events,
        Path.of(System.getProperty("java.io.tmpdir"), "nixek-evaluations"), System.getenv(), skipMachine,
        forgeTokens);
  }

  /** Where the evaluation of {@code job} (not recorded yet) is; starts its process when it has none. */
  JobEvaluator.Progress progress(NixekJob job) {
    String uid = job.getMetadata().getUid();
    LocalEvaluation run = runs.get(uid);
    if (run == null) {
      // an API failure reading the repository's token propagates: the reconcile is retried, the job not failed
      Optional<String> forgeToken = forgeTokens.forEvaluation(job);
      try {
        run = start(job, forgeToken);
      } catch (IOException | RuntimeException e) {
        return new JobEvaluator.Progress.Failed("cannot start the local evaluation: " + e.getMessage());
      }
      runs.put(uid, run);
      events.record(job, EventReason.EvaluationStarted, waiting(job, run));
      return new JobEvaluator.Progress.Waiting(waiting(job, run));
    }
    LocalEvaluation.Verdict verdict = run.verdict();
    if (verdict == null) {
      return new JobEvaluator.Progress.Waiting(waiting(job, run));
    }
    // the process posts before it exits: ask the API server, not the cache, whether the result is in
    NixekJob fresh = client.resources(NixekJob.class).inNamespace(job.getMetadata().getNamespace())
        .withName(job.getMetadata().getName()).get();
    if (fresh != null && EffectiveSteps.known(fresh)) {
      return new JobEvaluator.Progress.Evaluated(fresh);
    }
    if (verdict instanceof LocalEvaluation.Verdict.Failed f) {
      return new JobEvaluator.Progress.Failed(f.message());
    }
    return new JobEvaluator.Progress.Failed("the local evaluation process ended, but its result was not recorded");
  }

  /** Kills the job's evaluation process, if it runs (the job was cancelled or deleted). */
  void stop(NixekJob job) {
    LocalEvaluation run = runs.get(job.getMetadata().getUid());
    if (run != null && run.verdict() == null) {
      run.stop();
      LOG.info("job {}/{}: stopped its local evaluation (pid {})", job.getMetadata().getNamespace(),
          job.getMetadata().getName(), run.pid());
    }
  }

  /** Forgets the job (it is deleted), killing its process if it still runs. */
  void forget(NixekJob job) {
    stop(job);
    runs.remove(job.getMetadata().getUid());
  }

  private LocalEvaluation start(NixekJob job, Optional<String> forgeToken) throws IOException {
    String token = tokens.evaluationTokenFor(job.getMetadata().getUid());
    var pod = pods.pod(job, forgeToken.isPresent());
    String label = job.getMetadata().getNamespace() + "/" + job.getMetadata().getName();
    ResourceID id = ResourceID.fromResource(job);
    LocalEvaluation run = LocalEvaluation.start(label, workDir, job.getSpec().flake == null ? job.getSpec().nix : null,
        token, forgeToken.orElse(null), files -> LocalEvaluationCommand.argv(pod, files, skipMachine), environment, config.evaluation().timeout(),
        config.evaluation(), ended -> {
          if (isRunning()) {
            getEventHandler().handleEvent(new Event(id));
          }
        });
    LOG.info("job {}: started its local evaluation (pid {})", label, run.pid());
    return run;
  }

  private static String waiting(NixekJob job, LocalEvaluation run) {
    return "evaluating " + FlakeRules.subject(job) + " in a local process (pid " + run.pid() + ")";
  }

  @Override
  public Set<LocalEvaluation> getSecondaryResources(NixekJob primary) {
    return Set.of();
  }

  /** The operator stops: no evaluation outlives it. */
  @Override
  public void stop() {
    runs.values().stream().filter(r -> r.verdict() == null).forEach(LocalEvaluation::stop);
    super.stop();
  }
}
