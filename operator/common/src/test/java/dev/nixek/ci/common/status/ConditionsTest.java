package dev.nixek.ci.common.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConditionsTest {
  @Test
  void aConditionMessageIsStoredWithControlCharactersEscaped() {
    List<Condition> c = Conditions.with(null, Conditions.SUCCEEDED, ConditionReason.Evaluating,
        "nix says: \u001b[31merror\u001b[0m\n\u009b2J", 1L, Instant.EPOCH);
    assertThat(c.get(0).getMessage()).isEqualTo("nix says: \\x1b[31merror\\x1b[0m\n\\u009b2J");
  }
}
