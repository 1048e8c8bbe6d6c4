package dev.nixek.ci.operator.job;

import static dev.nixek.ci.operator.job.JobPass.LOG;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekAgentEnded;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.status.JobProgress;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineProvider;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Follows a job whose machine is launched: the steps the report API writes decide how it ends, unless the job
 * outlives its timeout, the agent never reports, or the machine goes away first. Whatever ends the job, its machine
 * is terminated.
 */
final class JobFollower {
  /** The longest a running job whose machine the provider watches goes without a reconcile. */
  static final Duration WATCHED_RECHECK = Duration.ofSeconds(60);

  private final OperatorConfig config;
  private final MachineProvider provider;
  private final MachineLifecycle machines;

  JobFollower(OperatorConfig config, MachineProvider provider, MachineLifecycle machines) {
    this.config = config;
    this.provider = provider;
    this.machines = machines;
  }

  UpdateControl<NixekJob> follow(JobPass pass) {
    NixekJob job = pass.job();
    NixekJobStatus next = pass.next();
    Instant now = pass.now();
    if (endFromSteps(pass, job)) {
      return machines.terminate(pass);
    }
    Instant started = JobPass.time(next.startTime).orElse(now);
    Duration timeout = job.getSpec().timeoutSeconds != null ? Duration.ofSeconds(job.getSpec().timeoutSeconds)
        : config.defaultJobTimeout();
    if (started.plus(timeout).isBefore(now)) {
      pass.end(ConditionReason.TimedOut, "the job ran longer than " + timeout.toSeconds() + "s", EventReason.TimedOut);
      return machines.terminate(pass);
    }
    Duration boot = config.lifecycle().bootTimeout();
    if (!JobProgress.anyReported(steps(job)) && started.plus(boot).isBefore(now)) {
      // the cached job may predate the agent's first report: decide on a fresh read
      NixekJob fresh = pass.fresh();
      if (fresh == null) {
        return UpdateControl.noUpdate();
      }
      if (!JobProgress.anyReported(steps(fresh))) {
        JobRetries.endOrRetry(pass, ConditionReason.AgentNeverReported, "the agent on machine " + next.instanceId
            + " sent no report within " + boot.toSeconds() + "s of launch", EventReason.AgentNeverReported);
        return machines.terminate(pass);
      }
    }
    pass.waiting(ConditionReason.Running, runningMessage(job));
    Optional<Machine> machine;
    try {
      machine = provider.describe(next.instanceId);
    } catch (RuntimeException e) {
      LOG.warn("could not look up machine {} of job {}: {}", next.instanceId, pass.ref(), e.toString());
      return pass.finish(true);
    }
    if (machine.isEmpty()) {
      // right after a launch EC2 may not know the instance yet; long after it, it has been gone for a while
      if (now.isBefore(started.plus(provider.notFoundGrace()))) {
        return pass.finish(true);
      }
      return lost(pass, "the " + provider.name() + " provider no longer knows it");
    }
    if (machine.get().state().isGone()) {
      return lost(pass, Optional.ofNullable(machine.get().stateReason()).orElse(machine.get().state().name()));
    }
    if (provider.watches()) {
      // the provider wakes the job when its machine changes, and the report API's writes do when a step does:
      // what is left to look for is a deadline
      return pass.finish(nextDeadline(started, timeout, boot, !JobProgress.anyReported(steps(job)), now));
    }
    return pass.finish(true);
  }

  /**
   * How long until the job's next deadline (its timeout, or the boot timeout while the agent has not reported), at
   * least one poll interval and at most {@link #WATCHED_RECHECK} (a backstop for a missed event).
   */
  private Duration nextDeadline(Instant started, Duration timeout, Duration boot, boolean waitingForAgent,
      Instant now) {
    Instant next = started.plus(timeout);
    if (waitingForAgent && started.plus(boot).isBefore(next)) {
      next = started.plus(boot);
    }
    Duration until = Duration.between(now, next).plusSeconds(1);
    Duration min = config.pollInterval();
    return until.compareTo(min) < 0 ? min : until.compareTo(WATCHED_RECHECK) > 0 ? WATCHED_RECHECK : until;
  }

  /** The job's machine is gone: the job ends InstanceLost, unless (on a fresh read) its steps had all been reported. */
  private UpdateControl<NixekJob> lost(JobPass pass, String why) {
    // The agent exits only after its last report was acknowledged, but this reconcile may run on a cached job
    // that predates that report: decide on a fresh read before calling the machine lost.
    NixekJob fresh = pass.fresh();
    if (fresh != null && endFromSteps(pass, fresh)) {
      return machines.terminate(pass);
    }
    JobRetries.endOrRetry(pass, ConditionReason.InstanceLost, "machine " + pass.next().instanceId
        + " is gone before the job finished (" + agentsAccount(fresh).orElse(why) + ")", EventReason.InstanceLost);
    return machines.terminate(pass);
  }

  /**
   * What the agent said when it stopped the job early ({@code status.agentEnded}, written by the report API): on EC2
   * the only account of why the machine went away, and a better one than the local provider's exit code.
   */
  static Optional<String> agentsAccount(NixekJob read) {
    NixekAgentEnded ended = read == null || read.getStatus() == null ? null : read.getStatus().agentEnded;
    if (ended == null || ended.exitCode == null) {
      return Optional.empty();
    }
    return Optional.of("the agent stopped the job with exit code " + ended.exitCode + ": "
        + Objects.requireNonNullElse(ended.reason, "no reason given"));
  }

  /** Ends the job if the steps of {@code read} (the pass's job, or a fresh read of it) say so; true when it did. */
  static boolean endFromSteps(JobPass pass, NixekJob read) {
    NixekJobStatus next = pass.next();
    List<NixekStepStatus> steps = steps(read);
    int total = EffectiveSteps.orEmpty(read).size();
    next.currentStep = JobProgress.currentStep(steps, total);
    Optional<Integer> failed = JobProgress.firstFailed(steps);
    if (failed.isPresent()) {
      NixekStepStatus s = steps.get(failed.get());
      String how = Boolean.TRUE.equals(s.timedOut) ? "timed out (exit code " + s.exitCode + ")"
          : "failed with exit code " + s.exitCode + (Integer.valueOf(127).equals(s.exitCode)
              ? " (command not found: the machine has no such program on its PATH)" : "");
      String message = "step '" + s.name + "' (" + (failed.get() + 1) + "/" + total + ") " + how;
      pass.record(read, EventReason.StepFailed, message);
      pass.end(read, ConditionReason.StepFailed, message, EventReason.Failed);
      return true;
    }
    if (JobProgress.allSucceeded(steps, total)) {
      pass.end(read, ConditionReason.Succeeded, "all " + total + " steps succeeded", EventReason.Succeeded);
      return true;
    }
    return false;
  }

  static List<NixekStepStatus> steps(NixekJob job) {
    return job.getStatus() == null ? null : job.getStatus().steps;
  }

  private static String runningMessage(NixekJob job) {
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
}
