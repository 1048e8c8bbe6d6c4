package dev.nixek.ci.operator.status;

import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import java.util.ArrayList;

/**
 * The operator's share of a job's status: everything but {@code steps}, {@code evaluation} and {@code agentEnded},
 * which belong to the report API.
 */
public final class OperatorStatus {
  private OperatorStatus() {}

  /** A copy of {@code status} without {@code steps}, {@code evaluation} and {@code agentEnded}. */
  public static NixekJobStatus of(NixekJobStatus status) {
    NixekJobStatus c = new NixekJobStatus();
    if (status == null) {
      return c;
    }
    c.observedGeneration = status.observedGeneration;
    c.conditions = status.conditions == null ? null : new ArrayList<>(status.conditions);
    c.currentStep = status.currentStep;
    c.imageId = status.imageId;
    c.instanceId = status.instanceId;
    c.attempt = status.attempt;
    c.attempts = status.attempts == null ? null : new ArrayList<>(status.attempts);
    c.launchToken = status.launchToken;
    c.stepTokenSha256 = status.stepTokenSha256;
    c.evaluationTokenSha256 = status.evaluationTokenSha256;
    c.sealedSecrets = status.sealedSecrets;
    c.machineTerminated = status.machineTerminated;
    c.startTime = status.startTime;
    c.completionTime = status.completionTime;
    c.logs = status.logs;
    return c;
  }
}
