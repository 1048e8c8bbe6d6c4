package dev.nixek.ci.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.ConditionReason.Kind;
import dev.nixek.ci.api.v1alpha1.ConditionReason.Status;
import org.junit.jupiter.api.Test;

/** The CRD descriptions of the conditions name exactly the enum's reasons, grouped by status. */
class ConditionReasonTest {
  @Test
  void jobDescriptionNamesEveryJobReason() {
    assertThat(ConditionReason.JOB_SUCCEEDED).isEqualTo("Conditions. Succeeded: Unknown while "
        + ConditionReason.spoken(ConditionReason.of(Kind.JOB, Status.UNKNOWN)) + "; True ("
        + ConditionReason.spoken(ConditionReason.of(Kind.JOB, Status.TRUE)) + ") when every step succeeded; "
        + "False with " + ConditionReason.spoken(ConditionReason.of(Kind.JOB, Status.FALSE)) + ".");
  }

  @Test
  void imageDescriptionNamesEveryImageReason() {
    assertThat(ConditionReason.IMAGE_READY).isEqualTo("Conditions. Ready: Unknown while "
        + ConditionReason.spoken(ConditionReason.of(Kind.IMAGE, Status.UNKNOWN)) + "; True ("
        + ConditionReason.spoken(ConditionReason.of(Kind.IMAGE, Status.TRUE)) + ") once the image is registered; "
        + "False with " + ConditionReason.spoken(ConditionReason.of(Kind.IMAGE, Status.FALSE)) + ".");
  }

  @Test
  void parseKnowsEveryNameAndNothingElse() {
    for (ConditionReason r : ConditionReason.values()) {
      assertThat(ConditionReason.parse(r.name())).contains(r);
    }
    assertThat(ConditionReason.parse("Pending")).isEmpty();
  }
}
