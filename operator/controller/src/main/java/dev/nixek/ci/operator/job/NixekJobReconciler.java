package dev.nixek.ci.operator.job;

import static dev.nixek.ci.common.status.Conditions.FALSE;
import static dev.nixek.ci.common.status.Conditions.SUCCEEDED;
import static dev.nixek.ci.common.status.Conditions.TRUE;
import static dev.nixek.ci.common.status.Conditions.UNKNOWN;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.JobProgress;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.image.ImageResolver;
import dev.nixek.ci.operator.image.ImageResolver.Resolution;
import dev.nixek.ci.operator.job.JobValidator.SpecError;
import dev.nixek.ci.operator.machine.LaunchException;
import dev.nixek.ci.operator.machine.LaunchRequest;
import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineProvider;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles {@link NixekJob}s: validate, record a launch token, launch the machine through the provider, follow
 * the steps the report API writes, enforce the time limit, and make sure the machine is terminated when the job
 * ends, is cancelled or is deleted.
 *
 * <p>Each reconcile looks at the whole state (observe → validate → act) and writes status only when it changed.
 * The report API's status writes trigger reconciles too ({@code generationAwareEventProcessing = false}).
 */
@ControllerConfiguration(name = "nixekjob", generationAwareEventProcessing = false,
    fieldManager = NixekJobReconciler.FIELD_MANAGER)
public class NixekJobReconciler implements Reconciler<NixekJob>, Cleaner<NixekJob> {
  /** The operator's field manager: it owns every status field but {@code steps}. */
  public static final String FIELD_MANAGER = "nixek-operator";
  private static final Logger LOG = LoggerFactory.getLogger(NixekJobReconciler.class);
  private static final Duration DELETE_RECHECK = Duration.ofSeconds(2);

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final MachineProvider provider;
  private final ImageResolver images;
  private final JobTokens tokens;
  private final JobTokenSecrets tokenSecrets;
  private final EventRecorder events;
  private final JobStatusWriter statusWriter;
  private final Clock clock;

  public NixekJobReconciler(KubernetesClient client, OperatorConfig config, MachineProvider provider,
      ImageResolver images, JobTokens tokens, EventRecorder events, Clock clock) {
    this.client = client;
    this.config = config;
    this.provider = provider;
    this.images = images;
    this.tokens = tokens;
    this.tokenSecrets = new JobTokenSecrets(client);
    this.events = events;
    this.statusWriter = new JobStatusWriter(config.useSsa());
    this.clock = clock;
  }

  @Override
  public UpdateControl<NixekJob> reconcile(NixekJob job, Context<NixekJob> context) throws Exception {
    Instant now = clock.instant();
    NixekJobStatus next = OperatorStatus.of(job.getStatus());
    next.observedGeneration = job.getMetadata().getGeneration();

    if (Conditions.isTerminal(job.getStatus())) {
      ensureTerminated(job, next);
      return finish(context, job, next, false);
    }

    Optional<SpecError> invalid = JobValidator.validate(job.getSpec());
    if (invalid.isPresent()) {
      String message = "invalid job, nothing launched: " + invalid.get().message();
      end(job, next, FALSE, "InvalidSpec", message, now, EventReason.InvalidSpec);
      return finish(context, job, next, false);
    }

    int total = job.getSpec().steps.size();
    List<NixekStepStatus> steps = job.getStatus() == null ? null : job.getStatus().steps;
    next.currentStep = JobProgress.currentStep(steps, total);

    if (Boolean.TRUE.equals(job.getSpec().cancel)) {
      end(job, next, FALSE, "Cancelled", "cancelled by spec.cancel", now, EventReason.Cancelled);
      ensureTerminated(job, next);
      return finish(context, job, next, false);
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
      // persist the launch token before launching: a launch replayed after a crash reuses it (DESIGN §6)
      next.attempt = 1;
      next.launchToken = LaunchTokens.of(job.getMetadata().getUid(), next.attempt);
      setSucceeded(next, UNKNOWN, "Launching", "launching a " + provider.name() + " machine", now);
      NixekJob written = statusWriter.write(context, job, next, true);
      return launch(context, written, OperatorStatus.of(written.getStatus()), now);
    }
    if (next.instanceId == null) {
      return launch(context, job, next, now);
    }
    return follow(context, job, next, now);
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
      if (!e.permanent()) {
        LOG.warn("launch of {}/{} failed, will retry: {}", job.getMetadata().getNamespace(),
            job.getMetadata().getName(), e.getMessage());
        setSucceeded(next, UNKNOWN, "Launching", "launch failed, retrying: " + e.getMessage(), now);
        return finish(context, job, next, true);
      }
      end(job, next, FALSE, "LaunchFailed", e.getMessage(), now, EventReason.LaunchFailed);
      return finish(context, job, next, false);
    }
    next.instanceId = machine.id();
    next.startTime = now.truncatedTo(ChronoUnit.SECONDS).toString();
    next.currentStep = JobProgress.currentStep(null, job.getSpec().steps.size());
    setSucceeded(next, UNKNOWN, "Running", "machine " + machine.id() + " launched; waiting for the agent", now);
    events.record(job, EventReason.Launched, "launched " + provider.name() + " machine " + machine.id());
    return finish(context, job, next, true);
  }

  private UpdateControl<NixekJob> follow(Context<NixekJob> context, NixekJob job, NixekJobStatus next, Instant now) {
    if (decideFromSteps(job, next, now)) {
      ensureTerminated(job, next);
      return finish(context, job, next, false);
    }
    Duration timeout = job.getSpec().timeoutSeconds != null ? Duration.ofSeconds(job.getSpec().timeoutSeconds)
        : config.defaultJobTimeout();
    if (next.startTime != null && Instant.parse(next.startTime).plus(timeout).isBefore(now)) {
      end(job, next, FALSE, "TimedOut", "the job ran longer than " + timeout.toSeconds() + "s", now,
          EventReason.TimedOut);
      ensureTerminated(job, next);
      return finish(context, job, next, false);
    }
    Optional<Machine> machine = provider.describe(next.instanceId);
    if (machine.isPresent() && machine.get().state().isGone()) {
      // The agent exits only after its last report was acknowledged, but this reconcile may run on a cached job
      // that predates that report: decide on a fresh read before calling the machine lost.
      NixekJob fresh = client.resources(NixekJob.class).inNamespace(job.getMetadata().getNamespace())
          .withName(job.getMetadata().getName()).get();
      if (fresh != null && decideFromSteps(fresh, next, now)) {
        ensureTerminated(job, next);
        return finish(context, job, next, false);
      }
      end(job, next, FALSE, "InstanceLost", "machine " + next.instanceId + " is gone before the job finished ("
          + Optional.ofNullable(machine.get().stateReason()).orElse(machine.get().state().name()) + ")", now,
          EventReason.InstanceLost);
      ensureTerminated(job, next);
      return finish(context, job, next, false);
    }
    setSucceeded(next, UNKNOWN, "Running", runningMessage(job), now);
    return finish(context, job, next, true);
  }

  /** Ends the job if its steps say so; true when it did. */
  private boolean decideFromSteps(NixekJob job, NixekJobStatus next, Instant now) {
    List<NixekStepStatus> steps = job.getStatus() == null ? null : job.getStatus().steps;
    int total = job.getSpec().steps.size();
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

  private String runningMessage(NixekJob job) {
    List<NixekStepStatus> steps = job.getStatus() == null ? null : job.getStatus().steps;
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

  /** Terminates the job's machine if one may exist and it was not terminated yet. */
  private void ensureTerminated(NixekJob job, NixekJobStatus next) {
    if (Boolean.TRUE.equals(next.machineTerminated) || next.launchToken == null) {
      return;
    }
    String id = next.instanceId;
    if (id == null) {
      // launched but not recorded (crash between launch and status write): find it by its launch token
      id = provider.findByLaunchToken(next.launchToken).map(Machine::id).orElse(null);
    }
    if (id != null) {
      provider.terminate(id);
      events.record(job, EventReason.MachineTerminated, "terminated machine " + id);
    }
    next.machineTerminated = true;
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
    NixekJobStatus status = job.getStatus();
    if (status == null || status.launchToken == null || Boolean.TRUE.equals(status.machineTerminated)) {
      return DeleteControl.defaultDelete();
    }
    String id = status.instanceId != null ? status.instanceId
        : provider.findByLaunchToken(status.launchToken).map(Machine::id).orElse(null);
    if (id == null) {
      return DeleteControl.defaultDelete();
    }
    provider.terminate(id);
    Optional<Machine> m = provider.describe(id);
    if (m.isPresent() && !m.get().state().isGone()) {
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(DELETE_RECHECK);
    }
    LOG.info("job {}/{} deleted; machine {} terminated", job.getMetadata().getNamespace(),
        job.getMetadata().getName(), id);
    return DeleteControl.defaultDelete();
  }
}
