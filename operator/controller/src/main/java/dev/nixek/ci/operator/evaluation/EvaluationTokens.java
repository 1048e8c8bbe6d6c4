package dev.nixek.ci.operator.evaluation;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import java.util.Optional;

/**
 * The forge token a job's evaluation fetches its flake with, if it gets one (a private repository's own job:
 * {@code RepositoryTokens}, docs/repositories.md). An interface here, implemented where repositories are known, so
 * that evaluations need not know them: the repositories' package uses this one for commit evaluations.
 */
@FunctionalInterface
public interface EvaluationTokens {
  /** No job gets a token. */
  EvaluationTokens NONE = job -> Optional.empty();

  /** The token for {@code job}'s evaluation; API failures propagate (the evaluation waits and says why). */
  Optional<String> forEvaluation(NixekJob job);
}
