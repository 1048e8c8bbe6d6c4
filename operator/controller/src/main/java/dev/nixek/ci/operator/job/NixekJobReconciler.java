package dev.nixek.ci.operator.job;

import static dev.nixek.ci.common.status.Conditions.SUCCEEDED;

import dev.nixek.ci.common.seal.SealKeyStore;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.job.JobForm;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.FieldManagers;
import dev.nixek.ci.common.status.JobProgress;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.operator.config.JobLimits;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.common.job.FlakeRules;
import dev.nixek.ci.operator.config.EvaluationOptions;
import dev.nixek.ci.operator.evaluation.EvaluationTokens;
import dev.nixek.ci.operator.forge.RepositoryTokens;
import dev.nixek.ci.operator.evaluation.JobEvaluator;
import dev.nixek.ci.operator.evaluation.LocalEvaluations;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.image.ImageResolver;
import dev.nixek.ci.operator.forge.CheckoutCredentials;
import dev.nixek.ci.operator.secrets.JobSecretSealing;
import dev.nixek.ci.operator.secrets.RepositorySecretPolicy;
import dev.nixek.ci.operator.job.JobValidator.SpecError;
import dev.nixek.ci.operator.logs.JobLogCleanup;
import dev.nixek.ci.operator.machine.MachineEvents;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.metrics.JobMetrics;
import dev.nixek.ci.operator.pod.RetryBackoff;
import dev.nixek.ci.operator.status.StatusWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reconciles {@link NixekJob}s, one {@link JobPass} per reconcile, down one ladder: observe (an ended job only has
 * its machine terminated) → validate → evaluate a job written in Nix ({@link JobEvaluator}: an evaluation pod whose
 * result the report API records) → launch ({@link MachineLifecycle}: record a launch token, launch the machine
 * through the provider) → follow ({@link JobFollower}: the steps the report API writes, the time limits) → finish
 * (write status only when it changed). The machine is terminated when the job ends, is cancelled or is deleted.
 *
 * <p>The report API's status writes trigger reconciles too ({@code generationAwareEventProcessing = false}), except
 * those that only move a step's output counters ({@link StateChangeFilter}); a job
 * waiting for its image is woken by the image's events, one being evaluated by its evaluation pod's, and everything
 * else is polled by rescheduling.
 *
 * <p>Launches are crash-safe (docs/ec2.md; {@link MachineLifecycle} tells how). A namespace's limit of running jobs
 * ({@link JobQueue}), retries after infrastructure failures ({@link JobRetries}) and the deletion of finished jobs
 * ({@link JobTtl}) are their own classes, called from here.
 */
@ControllerConfiguration(name = "nixekjob", generationAwareEventProcessing = false,
    fieldManager = FieldManagers.OPERATOR, informer = @Informer(onUpdateFilter = StateChangeFilter.class))
public class NixekJobReconciler implements Reconciler<NixekJob>, Cleaner<NixekJob> {
  private static final Duration DELETE_RECHECK = Duration.ofSeconds(2);

  private final MachineProvider provider;
  private final JobPass.Services passes;
  private final JobEvaluator evaluator;
  private final LocalEvaluations localEvaluations;
  private final MachineLifecycle machines;
  private final JobFollower follower;
  private final JobLimits limits;
  private final JobTokens tokens;
  private final JobLogCleanup logs;
  private final JobMetrics metrics;
  private final JobQueue queue;
  private final JobRetries retries;
  private final JobTtl ttl;

  /** Without a log store (a deleted job has no logs to delete) and without metrics. */
  public NixekJobReconciler(KubernetesClient client, OperatorConfig config, MachineProvider provider,
      ImageResolver images, JobTokens tokens, EventRecorder events, Clock clock, CrashPoints crashPoints) {
    this(client, config, provider, images, tokens, events, clock, crashPoints, JobLogCleanup.NONE,
        JobMetrics.unregistered());
  }

  /**
   * {@code logs} deletes a deleted job's step logs once its machine is terminated; {@code metrics} counts what the
   * job's status writes say.
   */
  public NixekJobReconciler(KubernetesClient client, OperatorConfig config, MachineProvider provider,
      ImageResolver images, JobTokens tokens, EventRecorder events, Clock clock, CrashPoints crashPoints,
      JobLogCleanup logs, JobMetrics metrics) {
    this(client, config, provider, images, tokens, events, clock, crashPoints, logs, metrics,
        SealKeyStore.lazySealer(client, config.operatorNamespace(), config.secrets().sealKeySecret()));
  }

  /**
   * Evaluation pods substitute from their trust domain's binary cache (docs/images.md#binary-cache); null: no cache.
   */
  public NixekJobReconciler withBinaryCache(dev.nixek.ci.operator.cache.BinaryCache cache) {
    evaluator.useCache(cache);
    return this;
  }

  /** @param sealer the operator's one sealer (NIXEK_SEAL_KEY_SECRET), shared with the repositories' reconciler */
  public NixekJobReconciler(KubernetesClient client, OperatorConfig config, MachineProvider provider,
      ImageResolver images, JobTokens tokens, EventRecorder events, Clock clock, CrashPoints crashPoints,
      JobLogCleanup logs, JobMetrics metrics, Supplier<Sealer> sealer) {
    this.logs = logs;
    this.provider = provider;
    this.metrics = metrics;
    this.limits = config.limits();
    this.tokens = tokens;
    this.passes = new JobPass.Services(client, StatusWriter.jobs(config.useSsa()), events, clock,
        config.pollInterval(), metrics);
    // a private repository's own jobs fetch their flake with its token (docs/repositories.md)
    EvaluationTokens forgeTokens = new RepositoryTokens(client);
    // where pods cannot run (the local provider's host, e.g. the demo's API server without a kubelet): local processes
    this.localEvaluations = config.evaluation().runnerFor(provider.name(), provider.requiresImage()) == EvaluationOptions.Runner.LOCAL
        ? new LocalEvaluations(client, config, tokens, events, !provider.requiresImage(), forgeTokens) : null;
    this.evaluator = new JobEvaluator(client, config, tokens, events, localEvaluations, forgeTokens);
    this.machines = new MachineLifecycle(config, provider, images, tokens, crashPoints,
        new JobSecretSealing(client, sealer, config.secrets(),
            RepositorySecretPolicy.fromRepositories(client), CheckoutCredentials.fromRepositories(client)));
    this.follower = new JobFollower(config, provider, machines);
    this.queue = new JobQueue(config.queue());
    this.retries = new JobRetries(machines, logs);
    this.ttl = new JobTtl(config.queue().ttlAfterFinished());
  }

  /**
   * Wakes a job when its evaluation pod changes, and the jobs of a namespace that still wait to launch when a machine
   * image there changes.
   */
  @Override
  public List<EventSource<?, NixekJob>> prepareEventSources(EventSourceContext<NixekJob> context) {
    List<EventSource<?, NixekJob>> sources = new ArrayList<>();
    metrics.watch(() -> context.getPrimaryCache().list());
    sources.add(evaluator.eventSource(context));
    sources.add(queue.eventSource());
    if (localEvaluations != null) {
      sources.add(localEvaluations);
    }
    sources.add(new MachineEvents(provider));
    if (!provider.requiresImage()) {
      return sources;
    }
    sources.add(new InformerEventSource<>(
        InformerEventSourceConfiguration.from(NixekMachineImage.class, NixekJob.class)
            .withName("machine-images")
            .withNamespacesInheritedFromController()
            .withSecondaryToPrimaryMapper(image -> waitingJobs(context, image.getMetadata().getNamespace()))
            .build(),
        context));
    return sources;
  }

  private static Set<ResourceID> waitingJobs(EventSourceContext<NixekJob> context, String namespace) {
    return context.getPrimaryCache().list(namespace)
        .filter(j -> !Conditions.isTerminal(j.getStatus()))
        .filter(j -> j.getStatus() == null || j.getStatus().launchToken == null)
        .map(ResourceID::fromResource)
        .collect(Collectors.toSet());
  }

  @Override
  public UpdateControl<NixekJob> reconcile(NixekJob job, Context<NixekJob> context) {
    JobPass pass = passes.begin(context, job);
    if (Conditions.isTerminal(job.getStatus())) {
      // ended before: all that may be left to do is terminating its machine
      Instant ended = JobPass.time(pass.next().completionTime).orElse(pass.now());
      boolean terminated = machines.ensureTerminated(pass, ended);
      if (terminated) {
        queue.released(job, context, ended, pass.now());
      }
      return ttl.afterFinished(pass, terminated);
    }
    Optional<SpecError> invalid = JobValidator.validate(job.getSpec(), job.getMetadata().getName(), limits);
    if (invalid.isPresent()) {
      String message = "invalid job, nothing launched: " + invalid.get().message();
      pass.end(ConditionReason.InvalidSpec, message, EventReason.InvalidSpec);
      return pass.finish(false);
    }
    return EffectiveSteps.known(job) ? launchOrFollow(pass) : evaluate(pass);
  }

  /** A job written in Nix and not evaluated yet: the evaluation pod runs, and its result is all the job waits for. */
  private UpdateControl<NixekJob> evaluate(JobPass pass) {
    NixekJob job = pass.job();
    if (Boolean.TRUE.equals(job.getSpec().cancel)) {
      evaluator.stop(job);
      pass.next().evaluationTokenSha256 = null;
      pass.end(ConditionReason.Cancelled, "cancelled by spec.cancel while its Nix expression was evaluated",
          EventReason.Cancelled);
      return pass.finish(false);
    }
    String record = JobTokens.sha256Hex(tokens.evaluationTokenFor(job.getMetadata().getUid()));
    if (!record.equals(pass.next().evaluationTokenSha256)) {
      // the token's record is in status before the token exists anywhere else, so its first use finds it
      pass.next().evaluationTokenSha256 = record;
      if (Conditions.find(pass.next().conditions, SUCCEEDED).isEmpty()) {
        // a status is never without its condition, not even for this first write
        pass.waiting(ConditionReason.Evaluating, "starting the evaluation of " + FlakeRules.subject(job));
      }
      pass = pass.written();
      job = pass.job();
    }
    JobEvaluator.Progress progress = evaluator.progress(job, pass.context());
    if (progress instanceof JobEvaluator.Progress.Waiting w) {
      pass.next().currentStep = null;
      pass.waiting(ConditionReason.Evaluating, w.message());
      return pass.finish(true);
    }
    if (progress instanceof JobEvaluator.Progress.Blocked b) {
      pass.next().currentStep = null;
      // the wait began when the job started evaluating: the backoff is read from the condition before this pass
      String since = Conditions.find(job.getStatus() == null ? null : job.getStatus().conditions, SUCCEEDED)
          .map(c -> c.getLastTransitionTime()).orElse(null);
      pass.waiting(ConditionReason.EvaluationPending, b.message(), EventReason.EvaluationPending);
      return b.created() ? pass.finish(true) : pass.finish(RetryBackoff.after(since, pass.now()));
    }
    if (progress instanceof JobEvaluator.Progress.Failed f) {
      evaluator.release(job);
      pass.next().evaluationTokenSha256 = null;
      pass.next().currentStep = null;
      pass.end(ConditionReason.EvaluationFailed, "evaluation of " + FlakeRules.subject(job) + " failed: "
          + f.message(), EventReason.EvaluationFailed);
      return pass.finish(false);
    }
    pass.useEvaluated(((JobEvaluator.Progress.Evaluated) progress).job());
    return launchOrFollow(pass);
  }

  private UpdateControl<NixekJob> launchOrFollow(JobPass pass) {
    NixekJob job = pass.job();
    NixekJobStatus next = pass.next();
    if (JobForm.needsEvaluation(job.getSpec()) && stillEvaluating(job.getStatus())) {
      // evaluated: the plaintext token and its record have done their job (once, before anything else happens)
      evaluator.release(job);
      pass.record(EventReason.Evaluated, evaluatedMessage(job));
    }
    if (next.evaluationTokenSha256 != null) {
      next.evaluationTokenSha256 = null;
    }
    next.currentStep = JobProgress.currentStep(JobFollower.steps(job), EffectiveSteps.of(job).size());
    if (Boolean.TRUE.equals(job.getSpec().cancel)) {
      pass.end(ConditionReason.Cancelled, "cancelled by spec.cancel", EventReason.Cancelled);
      return machines.terminate(pass);
    }
    if (JobRetries.pending(next)) {
      return retries.retry(pass);
    }
    if (next.launchToken == null) {
      return machines.launchFirst(pass, queue::hold);
    }
    if (next.instanceId == null) {
      // a launch token without a machine: launched or not, replaying the launch with the same token is safe
      return machines.launch(pass);
    }
    if (next.attempt != null && next.stepTokenSha256 == null) {
      // a job launched by an operator that kept token records elsewhere: its agent's token gets its record here
      next.stepTokenSha256 = machines.stepTokenSha256(job, next.attempt);
    }
    return follower.follow(pass);
  }

  /**
   * Whether the job's condition still says Evaluating or EvaluationPending (or says nothing yet): its evaluation was
   * just recorded.
   */
  private static boolean stillEvaluating(NixekJobStatus status) {
    return Conditions.find(status == null ? null : status.conditions, SUCCEEDED)
        .map(c -> Conditions.hasReason(c, ConditionReason.Evaluating)
            || Conditions.hasReason(c, ConditionReason.EvaluationPending)).orElse(true);
  }

  private String evaluatedMessage(NixekJob job) {
    List<NixekJobStep> steps = EffectiveSteps.orEmpty(job);
    var evaluation = job.getStatus().evaluation;
    return FlakeRules.subject(job) + " evaluated to " + steps.size() + (steps.size() == 1 ? " step" : " steps")
        + (Boolean.TRUE.equals(evaluation.machineSkipped) ? "; its machine was not evaluated (provider "
            + provider.name() + " boots no machine)"
            : evaluation.machine == null ? " and no machine" : " and machine " + evaluation.machine.drvPath);
  }

  @Override
  public DeleteControl cleanup(NixekJob job, Context<NixekJob> context) {
    evaluator.deleted(job);
    JobPass pass = passes.begin(context, job);
    Instant deleting = JobPass.time(job.getMetadata().getDeletionTimestamp()).orElse(pass.now());
    if (!machines.ensureTerminated(pass, deleting)) {
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(DELETE_RECHECK);
    }
    // after the machine: its agent sends nothing more (a late chunk is an orphan the log collector deletes)
    logs.jobDeleted(job);
    queue.released(job, context, pass.now(), pass.now());
    JobPass.LOG.info("job {} deleted; its machine {} is terminated", pass.ref(),
        Optional.ofNullable(pass.next().instanceId).orElse("(none recorded)"));
    return DeleteControl.defaultDelete();
  }
}
