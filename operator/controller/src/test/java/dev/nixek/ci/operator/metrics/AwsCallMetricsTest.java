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

  @Test
  void everyCallOfARealSdkClientIsCountedByActionAndErrorCode() throws Exception {
    try (OperatorMetrics registry = new OperatorMetrics();
        dev.nixek.ci.testing.aws.ec2.FakeEc2 ec2 = dev.nixek.ci.testing.aws.ec2.FakeEc2.start();
        software.amazon.awssdk.services.ec2.Ec2Client client = dev.nixek.ci.testing.aws.AwsTestClients.ec2(
            ec2.endpoint(), dev.nixek.ci.testing.aws.AwsTestClients.DEFAULT_ACCESS_KEY,
            b -> b.overrideConfiguration(o -> o.addExecutionInterceptor(registry.aws())))) {
      client.describeInstances();
      client.describeInstances();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.describeImages(r -> r.imageIds("ami-0000000000000000f")))
          .isInstanceOf(AwsServiceException.class);
      String text = registry.scrape();
      assertThat(text).contains(
          "nixek_aws_calls_total{action=\"DescribeInstances\",error=\"none\",service=\"Ec2\"} 2.0");
      assertThat(text).containsPattern(
          "nixek_aws_calls_total\\{action=\"DescribeImages\",error=\"InvalidAMIID\\.[A-Za-z]+\",service=\"Ec2\"} 1\\.0");
      // one call after the SDK's retries, and its duration
      assertThat(text).contains(
          "nixek_aws_call_duration_seconds_count{action=\"DescribeInstances\",service=\"Ec2\"} 2");
    }
  }
}
