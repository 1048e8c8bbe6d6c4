package dev.nixek.ci.common.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.job.StepNames;
import dev.nixek.ci.common.job.StepRules;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ObjectBudgetTest {
  /** The longest timestamp Instant.parse (the report API's check) accepts: 10-digit year, nanos, an offset. */
  private static final String LONGEST_TIME = "+1000000000-12-31T00:00:00.999999999+18:00:00";

  @Test
  void theWorstStepStatusFitsItsAllowance() {
    Instant.parse(LONGEST_TIME); // the report API would accept it
    String name = "<".repeat(NixekJobStep.NAME_MAX);
    assertThat(StepNames.problem(name)).isEmpty();
    NixekStepStatus s = new NixekStepStatus();
    s.name = name;
    s.state = State.Succeeded;
    s.exitCode = Integer.MIN_VALUE;
    s.timedOut = true;
    s.startTime = LONGEST_TIME;
    s.finishTime = LONGEST_TIME;
    s.outputTail = "";
    s.outputBytes = Long.MAX_VALUE;
    s.outputChunks = Long.MAX_VALUE;
    s.outputCutAtBytes = Long.MAX_VALUE;
    String json = Serialization.asJson(s);
    // as the API server stores it: Go escapes <, > and & as six-byte \\u003c
    long stored = json.length() + 5L * json.chars().filter(c -> c == '<' || c == '>' || c == '&').count() + 1;
    assertThat(stored).isLessThanOrEqualTo(ObjectBudget.STEP_STATUS_MAX_BYTES);
  }

  @Test
  void tailsAreBoundedByTheBudgetOrTheFloorPerStep() {
    assertThat(ObjectBudget.worstTails(4096, 131072)).isEqualTo(256L * 1001);
    assertThat(ObjectBudget.worstTails(65536, 1024 * 1024)).isEqualTo(1024 * 1024);
    assertThat(ObjectBudget.worstTails(100, 1)).isEqualTo(100L * 1001);
  }

  @Test
  void aJobAtTheStepLimitWithASourceHasItsCheckoutStepCounted() {
    assertThat(ObjectBudget.MAX_STORED_STEPS).isEqualTo(StepRules.MAX_STEPS + 1);
    // 1,000 steps' fields and floor tails plus the reserve leave 300,480 bytes for the evaluation; the checkout step's
    // 1,000 + 256 bytes leave 299,224: 300,000 fits only if the checkout is forgotten
    assertThat(ObjectBudget.worstObject(300_000, 4096, 131072)).isEqualTo(300_000L + 1001 * 256 + 1001 * 1000
        + 16 * 1024).isGreaterThan(ObjectBudget.ETCD_OBJECT_LIMIT);
    assertThat(ObjectBudget.worstObject(299_224, 4096, 131072)).isEqualTo(ObjectBudget.ETCD_OBJECT_LIMIT);
  }

  @Test
  void theDefaultsFitUnderEtcdsLimit() {
    assertThat(ObjectBudget.worstObject(262144, 4096, 131072)).isLessThanOrEqualTo(ObjectBudget.ETCD_OBJECT_LIMIT);
    assertThat(ObjectBudget.worstObject(4 * 1024 * 1024, 4096, 131072)).isGreaterThan(ObjectBudget.ETCD_OBJECT_LIMIT);
  }
}
