package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.status.ReportOutcome;
import java.util.List;

/** One kind of report applied to a job's steps: {@code StepReports.started}, {@code output} or {@code finished}. */
@FunctionalInterface
interface StepChange<T> {
  ReportOutcome apply(List<NixekJobStep> spec, List<NixekStepStatus> steps, int index, T report, int tailLimit);
}
