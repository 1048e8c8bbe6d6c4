package dev.nixek.ci.operator.job;

import static dev.nixek.ci.operator.job.JobPass.LOG;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobAttempt;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.status.JobProgress;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.logs.JobLogCleanup;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Retries after infrastructure failures ({@code spec.retries}, {@link RetryPolicy}). An attempt that would end the job
 * with a retried reason is recorded in {@code status.attempts} instead, and the job stays Launching: the retry is
 * pending while the last recorded attempt is the current one. The next passes then terminate the old machine,
 * remove the old attempt's steps, and launch a new attempt with new tokens (docs/architecture.md#token-protocol).
 */
final class JobRetries {
  private final MachineLifecycle machines;
  private final JobLogCleanup logs;

  JobRetries(MachineLifecycle machines, JobLogCleanup logs) {
    this.machines = machines;
    this.logs = logs;
  }

  /** {@link #endOrRetry(JobPass, NixekJob, ConditionReason, String, EventReason)} about the pass's job. */
  static void endOrRetry(JobPass pass, ConditionReason reason, String message, EventReason event) {
    endOrRetry(pass, pass.job(), reason, message, event);
  }

  /**
   * Ends the job like {@link JobPass#end}, unless {@code spec.retries} allows a retry after {@code reason}: then
   * records the attempt's outcome and leaves the retry pending. Either way the caller terminates the machine next.
   */
  static void endOrRetry(JobPass pass, NixekJob about, ConditionReason reason, String message, EventReason event) {
    NixekJobStatus next = pass.next();
    if (!RetryPolicy.retry(about, next, reason) || next.attempt == null) {
      pass.end(about, reason, message, event);
      return;
    }
    NixekJobAttempt ended = new NixekJobAttempt();
    ended.attempt = next.attempt;
    ended.reason = reason.name();
    ended.message = message;
    ended.instanceId = next.instanceId;
    ended.startTime = next.startTime;
    ended.finishTime = pass.now().truncatedTo(ChronoUnit.SECONDS).toString();
    List<NixekJobAttempt> attempts = next.attempts == null ? new ArrayList<>() : new ArrayList<>(next.attempts);
    attempts.add(ended);
    next.attempts = attempts;
    String retrying = "attempt " + ended.attempt + " ended " + reason + " (" + message + "); retrying as attempt "
        + (ended.attempt + 1) + " (retry " + attempts.size() + " of " + RetryPolicy.allowed(about) + ")";
    LOG.warn("job {}: {}", pass.ref(), retrying);
    pass.record(about, event, message);
    pass.waiting(ConditionReason.Launching, retrying);
  }

  /** Whether a retry is pending: the current attempt's outcome is already recorded. */
  static boolean pending(NixekJobStatus next) {
    return next.attempts != null && !next.attempts.isEmpty() && next.attempt != null
        && next.attempt.equals(next.attempts.get(next.attempts.size() - 1).attempt);
  }

  /**
   * Goes on with a pending retry: the old machine is terminated (confirmed) first, then the old attempt's steps are
   * removed, then the new attempt's tokens are recorded and its machine launched.
   */
  UpdateControl<NixekJob> retry(JobPass pass) {
    NixekJobStatus next = pass.next();
    NixekJobAttempt last = next.attempts.get(next.attempts.size() - 1);
    Instant ended = JobPass.time(last.finishTime).orElse(pass.now());
    if (!machines.ensureTerminated(pass, ended)) {
      pass.waiting(ConditionReason.Launching, "terminating the machine of attempt " + last.attempt
          + " before attempt " + (last.attempt + 1));
      return pass.finish(true);
    }
    NixekJob fresh = pass.fresh();
    if (fresh == null) {
      return UpdateControl.noUpdate();
    }
    // the new attempt's steps log from chunk 0 again under the same keys (the job's uid, the step's index): the old
    // attempt's logs go first, now that its agent is gone, or the new chunks would contradict them
    if (!logs.jobDeleted(fresh)) {
      pass.waiting(ConditionReason.Launching, "deleting the step logs of attempt " + last.attempt
          + " before attempt " + (last.attempt + 1));
      return pass.finish(true);
    }
    // the steps go before the new attempt's token record: until that write the old agent may still report, and its
    // report then moves the resourceVersion, so the write of the new attempt (with this precondition) fails and retries
    boolean stale = fresh.getStatus() != null
        && (fresh.getStatus().steps != null || fresh.getStatus().agentEnded != null);
    pass = pass.over(stale ? withoutSteps(pass, fresh) : fresh);
    NixekJob job = pass.job();
    int attempt = next.attempt + 1;
    if (!machines.sealSecrets(pass, attempt)) {
      return pass.finish(false);
    }
    next.attempt = attempt;
    next.launchToken = LaunchTokens.of(job.getMetadata().getUid(), attempt);
    // the new attempt's token record replaces the old one in the same write: the old token is refused from then on
    next.stepTokenSha256 = machines.stepTokenSha256(job, attempt);
    next.instanceId = null;
    next.startTime = null;
    next.machineTerminated = null;
    next.currentStep = JobProgress.currentStep(null, EffectiveSteps.orEmpty(job).size());
    String message = "attempt " + last.attempt + " ended " + last.reason + "; launching attempt " + attempt
        + " (retry " + next.attempts.size() + " of " + RetryPolicy.allowed(job) + "), from the first step";
    pass.record(EventReason.Relaunching, message);
    pass.waiting(ConditionReason.Launching, message);
    return machines.recordTokenAndLaunch(pass);
  }

  /**
   * Removes the old attempt's {@code status.steps} and {@code status.agentEnded} (the report API's fields) if the job
   * is still at the resourceVersion read.
   */
  private static NixekJob withoutSteps(JobPass pass, NixekJob fresh) {
    List<Map<String, Object>> ops = new ArrayList<>();
    ops.add(Map.of("op", "replace", "path", "/metadata/resourceVersion",
        "value", fresh.getMetadata().getResourceVersion()));
    if (fresh.getStatus().steps != null) {
      ops.add(Map.of("op", "remove", "path", "/status/steps"));
    }
    if (fresh.getStatus().agentEnded != null) {
      ops.add(Map.of("op", "remove", "path", "/status/agentEnded"));
    }
    return pass.client().resources(NixekJob.class).inNamespace(fresh.getMetadata().getNamespace())
        .withName(fresh.getMetadata().getName()).subresource("status")
        .patch(PatchContext.of(PatchType.JSON), Serialization.asJson(ops));
  }
}
