package dev.nixek.ci.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;

/** The AWS error-code label stays bounded whatever AWS answers. */
class AwsCallMetricsTest {
  private final AwsCallMetrics metrics = new AwsCallMetrics(new SimpleMeterRegistry());

  @Test
  void anAwsErrorCodeIsItsOwnLabelUpToTheCapThenOther() {
    assertThat(metrics.errorCode(error("InvalidAMIID.NotFound"))).isEqualTo("InvalidAMIID.NotFound");
    for (int i = 1; i < AwsCallMetrics.MAX_ERROR_CODES; i++) {
      assertThat(metrics.errorCode(error("Code" + i))).isEqualTo("Code" + i);
    }
    assertThat(metrics.errorCode(error("OneTooMany"))).isEqualTo("Other");
    // codes seen before the cap keep their label
    assertThat(metrics.errorCode(error("InvalidAMIID.NotFound"))).isEqualTo("InvalidAMIID.NotFound");
  }

  @Test
  void oddCodesAndClientErrorsGetFixedLabels() {
    assertThat(metrics.errorCode(error("job ci/secret-name failed"))).isEqualTo("Other");
    assertThat(metrics.errorCode(error("x".repeat(65)))).isEqualTo("Other");
    assertThat(metrics.errorCode(SdkClientException.create("connection refused"))).isEqualTo("ClientError");
    assertThat(metrics.errorCode(new IllegalStateException("?"))).isEqualTo("Other");
  }

  private static AwsServiceException error(String code) {
    return AwsServiceException.builder().awsErrorDetails(AwsErrorDetails.builder().errorCode(code).build()).build();
  }
}
