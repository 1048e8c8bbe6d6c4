package dev.nixek.ci.operator.job;

import static dev.nixek.ci.common.status.Conditions.FALSE;
import static dev.nixek.ci.common.status.Conditions.SUCCEEDED;
import static dev.nixek.ci.common.status.Conditions.TRUE;
import static dev.nixek.ci.common.status.Conditions.UNKNOWN;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.job.JobForm;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.JobProgress;
import dev.nixek.ci.common.status.FieldManagers;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.operator.status.OperatorStatus;
import dev.nixek.ci.operator.status.StatusWriter;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.common.job.FlakeRules;
import dev.nixek.ci.operator.evaluation.JobEvaluator;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.image.ImageResolver;
import dev.nixek.ci.operator.image.ImageResolver.Resolution;
import dev.nixek.ci.operator.job.CrashPoints.Point;
import dev.nixek.ci.operator.job.JobValidator.SpecError;
import dev.nixek.ci.operator.machine.LaunchException;
import dev.nixek.ci.operator.machine.LaunchRequest;
import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.token.JobTokenSecrets;
import io.fabric8.kubernetes.client.KubernetesClient;
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
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles {@link NixekJob}s: validate, evaluate a job written in Nix ({@link JobEvaluator}: an evaluation pod whose
 * result the report API records), record a launch token, launch the machine through the provider, follow the steps
 * the report API writes, enforce the time limits, and make sure the machine is terminated when the job ends, is
 * cancelled or is deleted.
 *
 * <p>Each reconcile looks at the whole state (observe → validate → act) and writes status only when it changed.
 * The report API's status writes trigger reconciles too ({@code generationAwareEventProcessing = false}); a job
 * waiting for its image is woken by the image's events, one being evaluated by its evaluation pod's, and everything
 * else is polled by rescheduling.
 *
 * <p>Launches are crash-safe (docs/ec2.md): the launch token is written to status (with a resourceVersion
 * precondition) before the provider is called, a job with a token and no machine id replays the launch with the
 * same token, and "not found" from an eventually consistent provider is not proof within its
 * {@link MachineProvider#notFoundGrace()}.
 */
@ControllerConfiguration(name = "nixekjob", generationAwareEventProcessing = false,
    fieldManager = FieldManagers.OPERATOR)
public class NixekJobReconciler implements Reconciler<NixekJob>, Cleaner<NixekJob> {
  /** The Succeeded condition's reason while a job written in Nix is evaluated. */
  static final String EVALUATING = "Evaluating";
  private static final Logger LOG = LoggerFactory.getLogger(NixekJobReconciler.class);
  private static final Duration DELETE_RECHECK = Duration.ofSeconds(2);

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final MachineProvider provider;
  private final ImageResolver images;
  private final JobTokens tokens;
  private final JobTokenSecrets tokenSecrets;
  private final EventRecorder events;
  private final StatusWriter<NixekJob, NixekJobStatus> statusWriter;
  private final Clock clock;
  private final CrashPoints crashPoints;
  private final JobEvaluator evaluator;

  public NixekJobReconciler(KubernetesClient client, OperatorConfig config, MachineProvider provider,
      ImageResolver images, JobTokens tokens, EventRecorder events, Clock clock) {
    this(client, config, provider, images, tokens, events, clock, CrashPoints.NONE);
  }

  public NixekJobReconciler(KubernetesClient client, OperatorConfig config, MachineProvider provider,
      ImageResolver images, JobTokens tokens, EventRecorder events, Clock clock, CrashPoints crashPoints) {
    this.client = client;
    this.config = config;
    this.provider = provider;
    this.images = images;
    this.tokens = tokens;
    this.tokenSecrets = new JobTokenSecrets(client);
    this.events = events;
    this.statusWriter = StatusWriter.jobs(config.useSsa());
    this.clock = clock;
    this.crashPoints = crashPoints;
    this.evaluator = new JobEvaluator(client, config, tokens, tokenSecrets, events);
  }

  /**
   * Wakes a job when its evaluation pod changes, and the jobs of a namespace that still wait to launch when a machine
   * image there changes.
   */
  @Override
  public List<EventSource<?, NixekJob>> prepareEventSources(EventSourceContext<NixekJob> context) {
    List<EventSource<?, NixekJob>> sources = new ArrayList<>();
    sources.add(evaluator.eventSource(context));
    if (!provider.requiresImage()) {
      return sources;
    }
    var images = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(NixekMachineImage.class, NixekJob.class)
            .withName("machine-images")
            .withNamespacesInheritedFromController()
            .withSecondaryToPrimaryMapper(image -> waitingJobs(context, image.getMetadata().getNamespace()))
            .build(),
        context);
    sources.add(images);
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
  public UpdateControl<NixekJob> reconcile(NixekJob job, Context<NixekJob> context) throws Exception {
    Instant now = clock.instant();
    NixekJobStatus next = OperatorStatus.of(job.getStatus());
    next.observedGeneration = job.getMetadata().getGeneration();

    if (Conditions.isTerminal(job.getStatus())) {
      boolean done = ensureTerminated(job, next, now, parseTime(next.completionTime).orElse(now));
      return finish(context, job, next, !done);
    }

    Optional<SpecError> invalid = JobValidator.validate(job.getSpec(), job.getMetadata().getName());
    if (invalid.isPresent()) {
      String message = "invalid job, nothing launched: " + invalid.get().message();
      end(job, next, FALSE, "InvalidSpec", message, now, EventReason.InvalidSpec);
      return finish(context, job, next, false);
    }

    if (!EffectiveSteps.known(job)) {
      // written in Nix and not evaluated yet: the evaluation pod runs, and its result is all the job waits for
      if (Boolean.TRUE.equals(job.getSpec().cancel)) {
        evaluator.stop(job);
        end(job, next, FALSE, "Cancelled", "cancelled by spec.cancel while its Nix expression was evaluated", now,
            EventReason.Cancelled);
        return finish(context, job, next, false);
      }
      JobEvaluator.Progress progress = evaluator.progress(job, context);
      if (progress instanceof JobEvaluator.Progress.Waiting w) {
        next.currentStep = null;
        setSucceeded(next, UNKNOWN, EVALUATING, w.message(), now);
        return finish(context, job, next, true);
      }
      if (progress instanceof JobEvaluator.Progress.Failed f) {
        evaluator.release(job);
        next.currentStep = null;
        end(job, next, FALSE, "EvaluationFailed", "evaluation of " + FlakeRules.subject(job) + " failed: "
            + f.message(), now, EventReason.EvaluationFailed);
        return finish(context, job, next, false);
      }
      job = ((JobEvaluator.Progress.Evaluated) progress).job();
    }
    if (JobForm.needsEvaluation(job.getSpec()) && stillEvaluating(job.getStatus())) {
      // evaluated: the plaintext token and its record have done their job (once, before anything else happens)
      evaluator.release(job);
      events.record(job, EventReason.Evaluated, evaluatedMessage(job));
    }

    int total = EffectiveSteps.of(job).size();
    List<NixekStepStatus> steps = job.getStatus() == null ? null : job.getStatus().steps;
    next.currentStep = JobProgress.currentStep(steps, total);

    if (Boolean.TRUE.equals(job.getSpec().cancel)) {
      end(job, next, FALSE, "Cancelled", "cancelled by spec.cancel", now, EventReason.Cancelled);
      return finish(context, job, next, !ensureTerminated(job, next, now, now));
    }

    if (next.launchToken == null) {
      if (provider.requiresImage()) {
        // the image is part of the launch: resolved once, recorded with the launch token, replayed as recorded
        Resolution image = images.resolve(job);
        if (image instanceof Resolution.Waiting w) {
          setSucceeded(next, UNKNOWN, w.reason(), w.message(), now);
          return finish(context, job, next, true);
        }
        if (image instanceof Resolution.Failed f) {
          end(job, next, FALSE, f.reason(), f.message(), now, EventReason.Failed);
          return finish(context, job, next, false);
        }
        next.imageId = ((Resolution.Ready) image).imageId();
      }
      next.attempt = 1;
      next.launchToken = LaunchTokens.of(job.getMetadata().getUid(), next.attempt);
      setSucceeded(next, UNKNOWN, "Launching", "launching a " + provider.name() + " machine", now);
      return recordTokenAndLaunch(context, job, next, now);
    }
    if (next.instanceId == null) {
      // a launch token without a machine: launched or not, replaying the launch with the same token is safe
      return launch(context, job, next, now);
    }
    return follow(context, job, next, now);
  }

  /** Persists {@code next.launchToken} (resourceVersion precondition) before anything is launched with it. */
  private UpdateControl<NixekJob> recordTokenAndLaunch(Context<NixekJob> context, NixekJob job, NixekJobStatus next,
      Instant now) {
    crashPoints.reached(Point.BEFORE_TOKEN_PERSISTED, job);
    NixekJob written = statusWriter.write(context, job, next, true);
    crashPoints.reached(Point.TOKEN_PERSISTED, written);
    return launch(context, written, OperatorStatus.of(written.getStatus()), now);
  }

  private UpdateControl<NixekJob> launch(Context<NixekJob> context, NixekJob job, NixekJobStatus next, Instant now) {
    String token = tokens.tokenFor(job.getMetadata().getUid(), next.attempt);
    tokenSecrets.ensure(job, token);
    LaunchRequest request = new LaunchRequest(job.getMetadata().getUid(), job.getMetadata().getNamespace(),
        job.getMetadata().getName(), next.launchToken, next.imageId, job.getSpec().instanceType,
        AgentConfigs.forJob(job, config.reportUrl(), token, provider.agentPowersOff()));
    Machine machine;
    try {
      machine = provider.launch(request);
    } catch (LaunchException e) {
      return launchFailed(context, job, next, now, e);
    }
    crashPoints.reached(Point.LAUNCHED, job);
    next.instanceId = machine.id();
    Instant launched = machine.launchTime() != null && machine.launchTime().isBefore(now) ? machine.launchTime() : now;
    next.startTime = launched.truncatedTo(ChronoUnit.SECONDS).toString();
    next.currentStep = JobProgress.currentStep(null, EffectiveSteps.orEmpty(job).size());
    setSucceeded(next, UNKNOWN, "Running", "machine " + machine.id() + " launched; waiting for the agent", now);
    statusWriter.write(context, job, next, false);
    crashPoints.reached(Point.INSTANCE_RECORDED, job);
    events.record(job, EventReason.Launched, "launched " + provider.name() + " machine " + machine.id());
    return UpdateControl.<NixekJob>noUpdate().rescheduleAfter(config.pollInterval());
  }

  private UpdateControl<NixekJob> launchFailed(Context<NixekJob> context, NixekJob job, NixekJobStatus next,
      Instant now, LaunchException e) {
    String ref = job.getMetadata().getNamespace() + "/" + job.getMetadata().getName();
    switch (e.kind()) {
      case RETRY -> {
        LOG.warn("launch of {} failed, will retry with the same launch token: {}", ref, e.getMessage());
        setSucceeded(next, UNKNOWN, "Launching", "launch failed, retrying: " + e.getMessage(), now);
        return finish(context, job, next, true);
      }
      case FALL_BACK -> {
        // the failed launch created nothing; the new token is recorded before it is used, like the first one
        LOG.info("launch of {}: {}", ref, e.getMessage());
        events.record(job, EventReason.SpotUnavailable, e.getMessage());
        next.launchToken = e.nextLaunchToken().orElseThrow();
        setSucceeded(next, UNKNOWN, "Launching", e.getMessage(), now);
        return recordTokenAndLaunch(context, job, next, now);
      }
      case TOKEN_TERMINATED -> {
        return relaunchOrGiveUp(context, job, next, now, e);
      }
      default -> {
        end(job, next, FALSE, "LaunchFailed", e.getMessage(), now, EventReason.LaunchFailed);
        // a replay refused for changed parameters may have a machine behind its token: terminate it
        return finish(context, job, next, !ensureTerminated(job, next, now, now));
      }
    }
  }

  /**
   * The launch token's machine was terminated before its id was recorded (EC2 IdempotentInstanceTerminated): the
   * token can never give a machine again. If the agent never reported, nothing ran that a user saw: launch a new
   * attempt with a new token (bounded). Otherwise the job's machine is simply lost.
   */
  private UpdateControl<NixekJob> relaunchOrGiveUp(Context<NixekJob> context, NixekJob job, NixekJobStatus next,
      Instant now, LaunchException e) {
    NixekJob fresh = read(job);
    if (fresh == null) {
      return UpdateControl.noUpdate();
    }
    next.machineTerminated = true;
    if (decideFromSteps(fresh, next, now)) {
      return finish(context, job, next, false);
    }
    String lost = "the machine of launch attempt " + next.attempt + " was terminated before the job recorded it";
    List<NixekStepStatus> steps = fresh.getStatus() == null ? null : fresh.getStatus().steps;
    if (JobProgress.anyReported(steps)) {
      end(job, next, FALSE, "InstanceLost", lost + " (its steps had started; they are not run twice)", now,
          EventReason.InstanceLost);
      return finish(context, job, next, false);
    }
    int max = config.lifecycle().maxLaunchAttempts();
    if (next.attempt >= max) {
      end(job, next, FALSE, "LaunchFailed", lost + "; no attempts left (" + max + ")", now, EventReason.LaunchFailed);
      return finish(context, job, next, false);
    }
    next.attempt = next.attempt + 1;
    next.launchToken = LaunchTokens.of(job.getMetadata().getUid(), next.attempt);
    next.machineTerminated = null;
    next.startTime = null;
    String message = lost + " and had reported nothing; launching attempt " + next.attempt;
    LOG.warn("job {}/{}: {}", job.getMetadata().getNamespace(), job.getMetadata().getName(), message);
    events.record(job, EventReason.Relaunching, message);
    setSucceeded(next, UNKNOWN, "Launching", message, now);
    return recordTokenAndLaunch(context, job, next, now);
  }

  private UpdateControl<NixekJob> follow(Context<NixekJob> context, NixekJob job, NixekJobStatus next, Instant now) {
    if (decideFromSteps(job, next, now)) {
      return finish(context, job, next, !ensureTerminated(job, next, now, now));
    }
    Instant started = parseTime(next.startTime).orElse(now);
    Duration timeout = job.getSpec().timeoutSeconds != null ? Duration.ofSeconds(job.getSpec().timeoutSeconds)
        : config.defaultJobTimeout();
    if (started.plus(timeout).isBefore(now)) {
      end(job, next, FALSE, "TimedOut", "the job ran longer than " + timeout.toSeconds() + "s", now,
          EventReason.TimedOut);
      return finish(context, job, next, !ensureTerminated(job, next, now, now));
    }
    Duration boot = config.lifecycle().bootTimeout();
    if (!JobProgress.anyReported(steps(job)) && started.plus(boot).isBefore(now)) {
      // the cached job may predate the agent's first report: decide on a fresh read
      NixekJob fresh = read(job);
      if (fresh == null) {
        return UpdateControl.noUpdate();
      }
      if (!JobProgress.anyReported(steps(fresh))) {
        end(job, next, FALSE, "AgentNeverReported", "the agent on machine " + next.instanceId
            + " sent no report within " + boot.toSeconds() + "s of launch", now, EventReason.AgentNeverReported);
        return finish(context, job, next, !ensureTerminated(job, next, now, now));
      }
    }
    setSucceeded(next, UNKNOWN, "Running", runningMessage(job), now);
    Optional<Machine> machine;
    try {
      machine = provider.describe(next.instanceId);
    } catch (RuntimeException e) {
      LOG.warn("could not look up machine {} of job {}/{}: {}", next.instanceId, job.getMetadata().getNamespace(),
          job.getMetadata().getName(), e.toString());
      return finish(context, job, next, true);
    }
    if (machine.isEmpty()) {
      // right after a launch EC2 may not know the instance yet; long after it, it has been gone for a while
      if (now.isBefore(started.plus(provider.notFoundGrace()))) {
        return finish(context, job, next, true);
      }
      return lost(context, job, next, now, "the " + provider.name() + " provider no longer knows it");
    }
    if (machine.get().state().isGone()) {
      return lost(context, job, next, now,
          Optional.ofNullable(machine.get().stateReason()).orElse(machine.get().state().name()));
    }
    return finish(context, job, next, true);
  }

  /** The job's machine is gone: the job ends InstanceLost, unless (on a fresh read) its steps had all been reported. */
  private UpdateControl<NixekJob> lost(Context<NixekJob> context, NixekJob job, NixekJobStatus next, Instant now,
      String why) {
    // The agent exits only after its last report was acknowledged, but this reconcile may run on a cached job
    // that predates that report: decide on a fresh read before calling the machine lost.
    NixekJob fresh = read(job);
    if (fresh != null && decideFromSteps(fresh, next, now)) {
      return finish(context, job, next, !ensureTerminated(job, next, now, now));
    }
    end(job, next, FALSE, "InstanceLost", "machine " + next.instanceId + " is gone before the job finished (" + why
        + ")", now, EventReason.InstanceLost);
    return finish(context, job, next, !ensureTerminated(job, next, now, now));
  }

  /** Ends the job if its steps say so; true when it did. */
  private boolean decideFromSteps(NixekJob job, NixekJobStatus next, Instant now) {
    List<NixekStepStatus> steps = steps(job);
    int total = EffectiveSteps.orEmpty(job).size();
    next.currentStep = JobProgress.currentStep(steps, total);
    Optional<Integer> failed = JobProgress.firstFailed(steps);
    if (failed.isPresent()) {
      NixekStepStatus s = steps.get(failed.get());
      String how = Boolean.TRUE.equals(s.timedOut) ? "timed out (exit code " + s.exitCode + ")"
          : "failed with exit code " + s.exitCode;
      String message = "step '" + s.name + "' (" + (failed.get() + 1) + "/" + total + ") " + how;
      events.record(job, EventReason.StepFailed, message);
      end(job, next, FALSE, "StepFailed", message, now, EventReason.Failed);
      return true;
    }
    if (JobProgress.allSucceeded(steps, total)) {
      end(job, next, TRUE, "Succeeded", "all " + total + " steps succeeded", now, EventReason.Succeeded);
      return true;
    }
    return false;
  }

  /** Whether the job's condition still says Evaluating (or says nothing yet): its evaluation was just recorded. */
  private static boolean stillEvaluating(NixekJobStatus status) {
    return Conditions.find(status == null ? null : status.conditions, SUCCEEDED)
        .map(c -> EVALUATING.equals(c.getReason())).orElse(true);
  }

  private static String evaluatedMessage(NixekJob job) {
    List<NixekJobStep> steps = EffectiveSteps.orEmpty(job);
    var machine = job.getStatus().evaluation.machine;
    return FlakeRules.subject(job) + " evaluated to " + steps.size() + (steps.size() == 1 ? " step" : " steps")
        + (machine == null ? " and no machine" : " and machine " + machine.drvPath);
  }

  private static List<NixekStepStatus> steps(NixekJob job) {
    return job.getStatus() == null ? null : job.getStatus().steps;
  }

  private String runningMessage(NixekJob job) {
    List<NixekStepStatus> steps = steps(job);
    if (!JobProgress.anyReported(steps)) {
      return "machine " + job.getStatus().instanceId + " launched; waiting for the agent";
    }
    for (int i = 0; i < steps.size(); i++) {
      if (steps.get(i).state == NixekStepStatus.State.Running) {
        return "running step '" + steps.get(i).name + "' (" + (i + 1) + "/" + steps.size() + ")";
      }
    }
    return "between steps";
  }

  /** Marks the job terminal (once): condition, completion time, one Event. */
  private void end(NixekJob job, NixekJobStatus next, String status, String reason, String message, Instant now,
      EventReason event) {
    boolean wasTerminal = Conditions.isTerminal(next);
    setSucceeded(next, status, reason, message, now);
    if (next.completionTime == null) {
      next.completionTime = now.truncatedTo(ChronoUnit.SECONDS).toString();
    }
    if (!wasTerminal) {
      events.record(job, event, message);
      LOG.info("job {}/{} ended: {} ({})", job.getMetadata().getNamespace(), job.getMetadata().getName(), reason,
          message);
    }
  }

  private void setSucceeded(NixekJobStatus next, String status, String reason, String message, Instant now) {
    next.conditions = Conditions.with(next.conditions, SUCCEEDED, status, reason, message, next.observedGeneration,
        now);
  }

  /**
   * Terminates the job's machine, if one may exist, and confirms that it is shutting down or terminated. True once
   * confirmed (then {@code machineTerminated} is set); false means "look again later".
   *
   * @param launchesEndedAt when this job stopped launching (it ended, or deletion began): a machine launched with
   *     its token but not recorded exists by then, so once the provider's not-found grace has passed since, a token
   *     nothing answers to launched nothing (and the collector backs this up)
   */
  private boolean ensureTerminated(NixekJob job, NixekJobStatus next, Instant now, Instant launchesEndedAt) {
    if (Boolean.TRUE.equals(next.machineTerminated) || next.launchToken == null) {
      return true;
    }
    try {
      String id = next.instanceId;
      Instant reference = parseTime(next.startTime).orElse(launchesEndedAt);
      if (id == null) {
        // launched but not recorded (a crash between launch and status write): find it by its launch token
        id = provider.findByLaunchToken(next.launchToken).map(Machine::id).orElse(null);
        reference = launchesEndedAt;
        if (id == null) {
          if (now.isBefore(launchesEndedAt.plus(provider.notFoundGrace()))) {
            return false;
          }
          next.machineTerminated = true;
          return true;
        }
      }
      Optional<Machine> before = provider.describe(id);
      if (before.isEmpty() || !before.get().state().isTerminating()) {
        provider.terminate(id);
      }
      Optional<Machine> after = before.isPresent() && before.get().state().isTerminating() ? before
          : provider.describe(id);
      // not found: not proof right after the launch; long after it, the machine has long been gone
      boolean confirmed = after.isPresent() ? after.get().state().isTerminating()
          : !now.isBefore(reference.plus(provider.notFoundGrace()));
      if (!confirmed) {
        return false;
      }
      next.machineTerminated = true;
      events.record(job, EventReason.MachineTerminated, "terminated machine " + id);
      return true;
    } catch (RuntimeException e) {
      LOG.warn("could not terminate the machine of job {}/{} yet: {}", job.getMetadata().getNamespace(),
          job.getMetadata().getName(), e.toString());
      return false;
    }
  }

  private NixekJob read(NixekJob job) {
    return client.resources(NixekJob.class).inNamespace(job.getMetadata().getNamespace())
        .withName(job.getMetadata().getName()).get();
  }

  private static Optional<Instant> parseTime(String t) {
    try {
      return Optional.ofNullable(t).map(Instant::parse);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  private UpdateControl<NixekJob> finish(Context<NixekJob> context, NixekJob job, NixekJobStatus next,
      boolean poll) {
    if (!OperatorStatus.same(job.getStatus(), next)) {
      statusWriter.write(context, job, next, false);
    }
    UpdateControl<NixekJob> control = UpdateControl.noUpdate();
    return poll ? control.rescheduleAfter(config.pollInterval()) : control;
  }

  @Override
  public DeleteControl cleanup(NixekJob job, Context<NixekJob> context) {
    Instant now = clock.instant();
    NixekJobStatus next = OperatorStatus.of(job.getStatus());
    Instant deleting = parseTime(job.getMetadata().getDeletionTimestamp()).orElse(now);
    if (!ensureTerminated(job, next, now, deleting)) {
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(DELETE_RECHECK);
    }
    LOG.info("job {}/{} deleted; its machine {} is terminated", job.getMetadata().getNamespace(),
        job.getMetadata().getName(), Optional.ofNullable(next.instanceId).orElse("(none recorded)"));
    return DeleteControl.defaultDelete();
  }
}
