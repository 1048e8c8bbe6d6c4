package dev.nixek.ci.common.job;

import dev.nixek.ci.api.v1alpha1.NixekJobSource;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import java.util.List;

/**
 * The step a job with {@code spec.source} runs first: the agent checks the repository out at the job's commit
 * (docs/repositories.md#source-checkout). Never stored in a spec or an evaluation; {@link EffectiveSteps} puts it
 * before the job's own steps, so that it is step 0 everywhere (reports, {@code status.steps}, logs, currentStep)
 * and the job's own steps are 1..n.
 */
public final class CheckoutStep extends NixekJobStep {
  /** The checkout step's name in status and logs. */
  public static final String NAME = "checkout";

  private final NixekJobSource source;

  private CheckoutStep(NixekJobSource source) {
    this.source = source;
    this.name = NAME;
    // what it amounts to, for anyone reading the step as a command; the agent does not run this argv
    this.command = List.of("git", "checkout", "--detach", source.rev);
  }

  /** The checkout step of {@code source}. */
  public static CheckoutStep of(NixekJobSource source) {
    return new CheckoutStep(source);
  }

  public NixekJobSource source() {
    return source;
  }
}
