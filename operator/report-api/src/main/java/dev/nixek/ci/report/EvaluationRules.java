package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekEvaluatedMachine;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.common.job.StepRules;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.EvaluationResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Turns a posted {@link EvaluationResult} into the {@code status.evaluation} it means, or the 422 that says why it
 * cannot be one. The steps must satisfy {@link StepRules} (what the CRD and the agent accept of explicit steps, the
 * API server checks status against the same schema); the machine must look like a Nix derivation of a Linux system.
 * Pure: it runs on the event loop before anything is read or written.
 */
final class EvaluationRules {
  /** A store path of a derivation, as the CRD's NixekMachineImage.spec.drvPath accepts it. */
  static final Pattern DRV_PATH = Pattern.compile("/nix/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+\\.drv");
  static final Pattern SYSTEM = Pattern.compile("[a-z0-9_]+-linux");
  static final Pattern NIX_VERSION = Pattern.compile("[0-9][0-9A-Za-z.+~_-]{0,63}");
  private static final int MAX_DRV_PATH = 512;

  /** Either the evaluation to record or why not. */
  record Checked(NixekJobEvaluation evaluation, Rejected rejected) {}

  private EvaluationRules() {}

  static Checked check(EvaluationResult result) {
    if (result.steps() == null) {
      return invalid("steps is required: the evaluation output of nix/eval.nix has a list of steps");
    }
    List<NixekJobStep> steps = new ArrayList<>(result.steps().size());
    for (AgentStep s : result.steps()) {
      steps.add(s == null ? null : toStep(s));
    }
    var problem = StepRules.validate(steps, "steps");
    if (problem.isPresent()) {
      return invalid(problem.get().message());
    }
    if (result.nixVersion() != null && !NIX_VERSION.matcher(result.nixVersion()).matches()) {
      return invalid("nixVersion must be a Nix version such as 2.26.3 (what nix-instantiate --version says)");
    }
    NixekJobEvaluation evaluation = new NixekJobEvaluation();
    evaluation.steps = steps;
    evaluation.nixVersion = result.nixVersion();
    EvaluationResult.Machine m = result.machine();
    if (Boolean.TRUE.equals(result.machineSkipped())) {
      if (m != null) {
        return invalid("machineSkipped and machine exclude each other: a skipped machine has no drvPath");
      }
      evaluation.machineSkipped = true;
    }
    if (m != null) {
      if (m.drvPath() == null || m.drvPath().length() > MAX_DRV_PATH || !DRV_PATH.matcher(m.drvPath()).matches()) {
        return invalid("machine.drvPath must be the store path of a derivation (/nix/store/<hash>-<name>.drv)");
      }
      if (m.system() == null || !SYSTEM.matcher(m.system()).matches()) {
        return invalid("machine.system must be a Linux Nix system such as x86_64-linux");
      }
      NixekEvaluatedMachine machine = new NixekEvaluatedMachine();
      machine.drvPath = m.drvPath();
      machine.system = m.system();
      evaluation.machine = machine;
    }
    return new Checked(evaluation, null);
  }

  private static NixekJobStep toStep(AgentStep s) {
    NixekJobStep step = new NixekJobStep();
    step.name = s.name();
    step.run = s.run();
    step.command = s.command() == null ? null : new ArrayList<>(s.command());
    step.env = s.env() == null || s.env().isEmpty() ? null : new LinkedHashMap<>(new java.util.TreeMap<>(s.env()));
    step.timeoutSeconds = s.timeoutSeconds();
    step.secrets = s.secrets() == null || s.secrets().isEmpty() ? null : s.secrets().stream()
        .map(EvaluationRules::toUse).collect(java.util.stream.Collectors.toCollection(ArrayList::new));
    step.artifacts = dev.nixek.ci.common.job.StepArtifacts.fromSpecs(s.artifacts());
    return step;
  }

  private static Checked invalid(String message) {
    return new Checked(null, new Rejected(422, "invalid_evaluation", message));
  }

  /** A step's secret as nix/eval.nix prints it; a ref that is not {@code secret/key} fails {@link StepRules}. */
  private static dev.nixek.ci.api.v1alpha1.NixekSecretUse toUse(dev.nixek.ci.protocol.StepSecret s) {
    if (s == null) {
      return null;
    }
    String ref = s.ref() == null ? "" : s.ref();
    int slash = ref.indexOf('/');
    var secretRef = new dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef(slash < 0 ? ref : ref.substring(0, slash),
        slash < 0 ? null : ref.substring(slash + 1));
    return new dev.nixek.ci.api.v1alpha1.NixekSecretUse(s.name(), secretRef, s.as());
  }
}
