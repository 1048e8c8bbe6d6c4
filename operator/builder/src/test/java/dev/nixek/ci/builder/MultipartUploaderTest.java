package dev.nixek.ci.builder;

import static dev.nixek.ci.builder.PartPlan.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The uploader's pure parts; its S3 behaviour is in MultipartUploaderIT. */
class MultipartUploaderTest {

  @Test
  void holdsTwoPartBuffersWhenThereAreSeveralParts() {
    assertThat(MultipartUploader.buffersNeeded(PartPlan.of(100 * MIB, (int) (16 * MIB)))).isEqualTo(32 * MIB);
    assertThat(MultipartUploader.buffersNeeded(PartPlan.of(3 * MIB, (int) (16 * MIB)))).isEqualTo(16 * MIB);
  }

  @Test
  void refusesAPartSizeTheHeapCannotHold() {
    PartPlan plan = PartPlan.of(4096 * MIB, (int) (64 * MIB));
    assertThatThrownBy(() -> MultipartUploader.checkHeap(plan, 128 * MIB))
        .isInstanceOfSatisfying(BuilderException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE))
        .hasMessageContaining("parts of 64 MiB need about 168 MiB of heap")
        .hasMessageContaining("maximum heap is 128 MiB");
    assertThatCode(() -> MultipartUploader.checkHeap(plan, 192 * MIB)).doesNotThrowAnyException();
    assertThatCode(() -> MultipartUploader.checkHeap(PartPlan.of(0, (int) (64 * MIB)), 1)).doesNotThrowAnyException();
  }

  @Test
  void crc32IsBase64OfTheBigEndianValue() {
    // CRC32("123456789") = 0xCBF43926, the standard check value
    assertThat(MultipartUploader.crc32("123456789".getBytes(), 9)).isEqualTo("y/Q5Jg==");
  }
}
