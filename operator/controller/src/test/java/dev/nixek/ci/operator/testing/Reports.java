package dev.nixek.ci.operator.testing;

import dev.nixek.ci.api.v1alpha1.NixekAgentEnded;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.StepReports;
import dev.nixek.ci.common.status.StepsWriter;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;

/** Plays the report API: writes step results (and evaluations) into a job's status as it does. */
public final class Reports {
  private final StepsWriter steps;

  public Reports(KubernetesClient client) {
    this.steps = new StepsWriter(client);
  }

  /** Step {@code index} starts and, unless {@code exitCode} is null, finishes with it. */
  public void step(String namespace, String name, int index, Integer exitCode) {
    String t = Instant.now().toString();
    steps.update(namespace, name, j -> StepReports.started(EffectiveSteps.orEmpty(j), j.getStatus().steps, index,
        new StepStarted(EffectiveSteps.orEmpty(j).get(index).name, t)));
    if (exitCode != null) {
      steps.update(namespace, name, j -> StepReports.finished(EffectiveSteps.orEmpty(j), j.getStatus().steps, index,
          new StepFinished(exitCode, t, 0, false)));
    }
  }

  /** The job's agent said why it stopped the job early, as the report API records it. */
  public void agentEnded(String namespace, String name, int exitCode, String reason) {
    NixekAgentEnded ended = new NixekAgentEnded();
    ended.exitCode = exitCode;
    ended.reason = reason;
    ended.time = Instant.now().toString();
    steps.update(namespace, name, j -> new ReportOutcome.Applied(null, null, ended));
  }

  /** The job's evaluation pod posted {@code evaluation}: recorded with the steps Pending, as the report API does. */
  public void evaluation(String namespace, String name, NixekJobEvaluation evaluation) {
    steps.update(namespace, name, j -> new ReportOutcome.Applied(StepReports.initial(evaluation.steps), evaluation));
  }
}
