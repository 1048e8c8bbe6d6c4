package dev.nixek.ci.builder;

import static dev.nixek.ci.builder.PartPlan.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PartPlanTest {
  private static final int P16 = (int) (16 * MIB);

  @Test
  void cutsIntoRequestedPartsWithAShortLastOne() {
    PartPlan plan = PartPlan.of(100 * MIB + 3, P16);
    assertThat(plan.partSize()).isEqualTo(P16);
    assertThat(plan.partCount()).isEqualTo(7);
    assertThat(plan.partLength(1)).isEqualTo(P16);
    assertThat(plan.partLength(7)).isEqualTo(4 * MIB + 3);
  }

  @Test
  void exactMultipleAndTinyAndEmptyFiles() {
    assertThat(PartPlan.of(64 * MIB, P16).partCount()).isEqualTo(4);
    assertThat(PartPlan.of(64 * MIB, P16).partLength(4)).isEqualTo(P16);
    assertThat(PartPlan.of(1, P16).partCount()).isEqualTo(1);
    assertThat(PartPlan.of(0, P16).partCount()).isEqualTo(1);
    assertThat(PartPlan.of(0, P16).partLength(1)).isZero();
  }

  @Test
  void growsThePartSizeToStayWithin10000Parts() {
    long tib = 1024 * 1024 * MIB;
    PartPlan plan = PartPlan.of(tib, P16);
    assertThat(plan.partSize() % MIB).isZero();
    assertThat(plan.partSize()).isEqualTo(105 * MIB);
    assertThat(plan.partCount()).isLessThanOrEqualTo(10_000);
    PartPlan largest = PartPlan.of(PartPlan.MAX_OBJECT_SIZE, P16);
    assertThat(largest.partCount()).isLessThanOrEqualTo(10_000);
    assertThat((long) largest.partSize() * largest.partCount()).isGreaterThanOrEqualTo(PartPlan.MAX_OBJECT_SIZE);
    // exactly at the limit the requested size is kept
    assertThat(PartPlan.of(10_000L * P16, P16).partSize()).isEqualTo(P16);
    assertThat(PartPlan.of(10_000L * P16 + 1, P16).partSize()).isEqualTo(17 * MIB);
  }

  @Test
  void rejectsWhatS3Rejects() {
    assertThatThrownBy(() -> PartPlan.of(10, (int) (4 * MIB))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PartPlan.of(PartPlan.MAX_OBJECT_SIZE + 1, P16)).hasMessageContaining("5 TiB");
  }
}
