package dev.nixek.ci.operator.job;

import static dev.nixek.ci.operator.job.JobPass.LOG;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobLogs;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.status.JobProgress;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.image.ImageResolver;
import dev.nixek.ci.operator.image.ImageResolver.Resolution;
import dev.nixek.ci.operator.job.CrashPoints.Point;
import dev.nixek.ci.operator.machine.LaunchException;
import dev.nixek.ci.operator.machine.LaunchRequest;
import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.secrets.JobSecretSealing;
import dev.nixek.ci.protocol.LogPaths;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A job's machine from launch to termination. Launches are crash-safe (docs/ec2.md): the launch token is written to
 * status (with a resourceVersion precondition) before the provider is called, a token without a machine id is
 * replayed with the same token, a token whose machine was terminated unrecorded is replaced by a new attempt
 * (bounded), and "not found" from an eventually consistent provider is not proof within its
 * {@link MachineProvider#notFoundGrace()}.
 */
final class MachineLifecycle {
  /** The longest a job waiting for its image goes without a reconcile. */
  static final Duration IMAGE_WAIT_RECHECK = Duration.ofSeconds(60);

  private final OperatorConfig config;
  private final MachineProvider provider;
  private final ImageResolver images;
  private final JobTokens tokens;
  private final CrashPoints crashPoints;
  private final JobSecretSealing secrets;

  MachineLifecycle(OperatorConfig config, MachineProvider provider, ImageResolver images, JobTokens tokens,
      CrashPoints crashPoints, JobSecretSealing secrets) {
    this.secrets = secrets;
    this.config = config;
    this.provider = provider;
    this.images = images;
    this.tokens = tokens;
    this.crashPoints = crashPoints;
  }

  /**
   * The first launch: the job's image (if the provider boots one), then the {@code gate} (the namespace's queue: empty
   * lets the job launch, else it is how the reconcile ends), the first launch token, then the machine.
   */
  UpdateControl<NixekJob> launchFirst(JobPass pass,
      Function<JobPass, Optional<UpdateControl<NixekJob>>> gate) {
    NixekJobStatus next = pass.next();
    String imageId = null;
    if (provider.requiresImage()) {
      // the image is part of the launch: resolved once, recorded with the launch token, replayed as recorded
      Resolution image = images.resolve(pass.job());
      if (image instanceof Resolution.Waiting w) {
        pass.waiting(w.reason(), w.message());
        // the image's events wake the job (NixekJobReconciler's machine-images source): polling is only a backstop
        return pass.finish(IMAGE_WAIT_RECHECK);
      }
      if (image instanceof Resolution.Failed f) {
        pass.end(f.reason(), f.message(), EventReason.Failed);
        return pass.finish(false);
      }
      imageId = ((Resolution.Ready) image).imageId();
    }
    Optional<UpdateControl<NixekJob>> held = gate.apply(pass);
    if (held.isPresent()) {
      return held.get();
    }
    if (!sealSecrets(pass, 1)) {
      return pass.finish(false);
    }
    if (imageId != null) {
      next.imageId = imageId;
    }
    next.attempt = 1;
    next.launchToken = LaunchTokens.of(pass.job().getMetadata().getUid(), next.attempt);
    next.stepTokenSha256 = stepTokenSha256(pass.job(), next.attempt);
    // recorded with the launch, so kubectl describe shows where the log will be before the first byte arrives
    String ns = pass.job().getMetadata().getNamespace();
    String name = pass.job().getMetadata().getName();
    next.logs = new NixekJobLogs(LogPaths.jobUrl(config.reportUrl(), ns, name), LogPaths.followCommand(ns, name));
    pass.waiting(ConditionReason.Launching, "launching a " + provider.name() + " machine");
    return recordTokenAndLaunch(pass);
  }

  /** Persists {@code next.launchToken} (resourceVersion precondition) before anything is launched with it. */
  UpdateControl<NixekJob> recordTokenAndLaunch(JobPass pass) {
    crashPoints.reached(Point.BEFORE_TOKEN_PERSISTED, pass.job());
    JobPass written = pass.written();
    crashPoints.reached(Point.TOKEN_PERSISTED, written.job());
    return launch(written);
  }

  /** Launches with the recorded token: a first launch, or a replay (launched or not, the same token is safe). */
  UpdateControl<NixekJob> launch(JobPass pass) {
    String token = tokens.tokenFor(pass.job().getMetadata().getUid(), pass.next().attempt);
    if (!JobTokens.sha256Hex(token).equals(pass.next().stepTokenSha256)) {
      // a launch token recorded by an operator that kept token records elsewhere: the record is written before use
      pass.next().stepTokenSha256 = JobTokens.sha256Hex(token);
      pass = pass.written();
    }
    NixekJob job = pass.job();
    NixekJobStatus next = pass.next();
    LaunchRequest request = new LaunchRequest(job.getMetadata().getUid(), job.getMetadata().getNamespace(),
        job.getMetadata().getName(), next.launchToken, next.imageId, job.getSpec().instanceType,
        AgentConfigs.forJob(job, config.reportUrl(), token, provider.agentPowersOff()));
    Machine machine;
    try {
      machine = provider.launch(request);
    } catch (LaunchException e) {
      return launchFailed(pass, e);
    }
    crashPoints.reached(Point.LAUNCHED, job);
    next.instanceId = machine.id();
    Instant now = pass.now();
    Instant launched = machine.launchTime() != null && machine.launchTime().isBefore(now) ? machine.launchTime() : now;
    next.startTime = launched.truncatedTo(ChronoUnit.SECONDS).toString();
    next.currentStep = JobProgress.currentStep(null, EffectiveSteps.orEmpty(job).size());
    pass.waiting(ConditionReason.Running, "machine " + machine.id() + " launched; waiting for the agent");
    pass.write();
    crashPoints.reached(Point.INSTANCE_RECORDED, job);
    pass.record(EventReason.Launched, "launched " + provider.name() + " machine " + machine.id());
    return pass.pollLater();
  }

  private UpdateControl<NixekJob> launchFailed(JobPass pass, LaunchException e) {
    switch (e.kind()) {
      case RETRY -> {
        LOG.warn("launch of {} failed, will retry with the same launch token: {}", pass.ref(), e.getMessage());
        pass.waiting(ConditionReason.Launching, "launch failed, retrying: " + e.getMessage());
        return pass.finish(true);
      }
      case FALL_BACK -> {
        // the failed launch created nothing; the new token is recorded before it is used, like the first one
        LOG.info("launch of {}: {}", pass.ref(), e.getMessage());
        pass.record(EventReason.SpotUnavailable, e.getMessage());
        pass.next().launchToken = e.nextLaunchToken().orElseThrow();
        pass.waiting(ConditionReason.Launching, e.getMessage());
        return recordTokenAndLaunch(pass);
      }
      case TOKEN_TERMINATED -> {
        return relaunchOrGiveUp(pass);
      }
      default -> {
        pass.end(ConditionReason.LaunchFailed, e.getMessage(), EventReason.LaunchFailed);
        // a replay refused for changed parameters may have a machine behind its token: terminate it
        return terminate(pass);
      }
    }
  }

  /**
   * The launch token's machine was terminated before its id was recorded (EC2 IdempotentInstanceTerminated): the
   * token can never give a machine again. If the agent never reported, nothing ran that a user saw: launch a new
   * attempt with a new token (bounded). Otherwise the job's machine is simply lost.
   */
  private UpdateControl<NixekJob> relaunchOrGiveUp(JobPass pass) {
    NixekJob fresh = pass.fresh();
    if (fresh == null) {
      return UpdateControl.noUpdate();
    }
    NixekJobStatus next = pass.next();
    next.machineTerminated = true;
    if (JobFollower.endFromSteps(pass, fresh)) {
      return pass.finish(false);
    }
    String lost = "the machine of launch attempt " + next.attempt + " was terminated before the job recorded it";
    List<NixekStepStatus> steps = fresh.getStatus() == null ? null : fresh.getStatus().steps;
    if (JobProgress.anyReported(steps)) {
      JobRetries.endOrRetry(pass, ConditionReason.InstanceLost, lost + " (its steps had started; they are not run "
          + "twice in this attempt)", EventReason.InstanceLost);
      return pass.finish(false);
    }
    int max = config.lifecycle().maxLaunchAttempts();
    // attempts made by spec.retries do not count against the launch attempts
    if (next.attempt - RetryPolicy.used(next) >= max) {
      pass.end(ConditionReason.LaunchFailed, lost + "; no attempts left (" + max + ")", EventReason.LaunchFailed);
      return pass.finish(false);
    }
    if (!sealSecrets(pass, next.attempt + 1)) {
      return pass.finish(false);
    }
    next.attempt = next.attempt + 1;
    next.launchToken = LaunchTokens.of(pass.job().getMetadata().getUid(), next.attempt);
    // the new attempt's token record replaces the old one in the same write: the old token is refused from then on
    next.stepTokenSha256 = stepTokenSha256(pass.job(), next.attempt);
    next.machineTerminated = null;
    next.startTime = null;
    String message = lost + " and had reported nothing; launching attempt " + next.attempt;
    LOG.warn("job {}: {}", pass.ref(), message);
    pass.record(EventReason.Relaunching, message);
    pass.waiting(ConditionReason.Launching, message);
    return recordTokenAndLaunch(pass);
  }

  /**
   * Seals the job's secret values for launch {@code attempt} into {@code status.sealedSecrets}, written with that
   * attempt's token record, before anything is launched (docs/secrets.md). False when the job may not have what it
   * names: the job has then ended SecretNotAllowed, and nothing is launched.
   */
  boolean sealSecrets(JobPass pass, int attempt) {
    JobSecretSealing.Outcome outcome = secrets.seal(pass.job(), attempt);
    if (outcome instanceof JobSecretSealing.Outcome.Refused r) {
      pass.end(ConditionReason.SecretNotAllowed, r.message(), EventReason.SecretNotAllowed);
      return false;
    }
    pass.next().sealedSecrets = outcome instanceof JobSecretSealing.Outcome.Sealed s ? s.sealed() : null;
    return true;
  }

  /**
   * The token record of a step token: its SHA-256 in {@code status.stepTokenSha256}, where only writers of the job's
   * status (the operator and the report API) can put it (docs/security.md#tokens).
   */
  String stepTokenSha256(NixekJob job, int attempt) {
    return JobTokens.sha256Hex(tokens.tokenFor(job.getMetadata().getUid(), attempt));
  }

  /** Terminates the machine of a job that has ended and finishes the pass, looking again until it is confirmed. */
  UpdateControl<NixekJob> terminate(JobPass pass) {
    return pass.finish(!ensureTerminated(pass, pass.now()));
  }

  /**
   * Terminates the job's machine, if one may exist, and confirms that it is shutting down or terminated. True once
   * confirmed (then {@code machineTerminated} is set); false means "look again later".
   *
   * @param launchesEndedAt when this job stopped launching (it ended, or deletion began): a machine launched with
   *     its token but not recorded exists by then, so once the provider's not-found grace has passed since, a token
   *     nothing answers to launched nothing (and the collector backs this up)
   */
  boolean ensureTerminated(JobPass pass, Instant launchesEndedAt) {
    NixekJobStatus next = pass.next();
    Instant now = pass.now();
    if (Boolean.TRUE.equals(next.machineTerminated) || next.launchToken == null) {
      return true;
    }
    try {
      String id = next.instanceId;
      Instant reference = JobPass.time(next.startTime).orElse(launchesEndedAt);
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
      pass.record(EventReason.MachineTerminated, "terminated machine " + id);
      return true;
    } catch (RuntimeException e) {
      LOG.warn("could not terminate the machine of job {} yet: {}", pass.ref(), e.toString());
      return false;
    }
  }
}
