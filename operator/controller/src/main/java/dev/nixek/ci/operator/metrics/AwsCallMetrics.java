package dev.nixek.ci.operator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Counts and times every AWS call of the operator's clients by service, action and error code (one per call, after
 * the SDK's own retries). Error codes come from AWS, so they are bounded by a cap: past {@link #MAX_ERROR_CODES}
 * distinct codes, or for a code that does not look like one, the label says {@code Other}.
 */
public final class AwsCallMetrics implements ExecutionInterceptor {
  static final int MAX_ERROR_CODES = 64;
  private static final Pattern CODE = Pattern.compile("[A-Za-z][A-Za-z0-9.]{0,63}");
  private static final ExecutionAttribute<Long> STARTED = new ExecutionAttribute<>("nixek.metrics.started");

  private final MeterRegistry registry;
  private final Set<String> codes = ConcurrentHashMap.newKeySet();

  AwsCallMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
    attributes.putAttribute(STARTED, System.nanoTime());
  }

  @Override
  public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
    record(attributes, "none");
  }

  @Override
  public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
    record(attributes, errorCode(context.exception()));
  }

  /** The label of a failed call: AWS's error code, {@code ClientError} (no answer), or {@code Other}. */
  String errorCode(Throwable e) {
    if (e instanceof AwsServiceException a && a.awsErrorDetails() != null && a.awsErrorDetails().errorCode() != null) {
      String code = a.awsErrorDetails().errorCode();
      if (!CODE.matcher(code).matches()) {
        return "Other";
      }
      if (codes.contains(code) || codes.size() < MAX_ERROR_CODES && codes.add(code)) {
        return code;
      }
      return "Other";
    }
    return e instanceof SdkClientException ? "ClientError" : "Other";
  }

  private void record(ExecutionAttributes attributes, String error) {
    String service = attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME);
    String action = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    service = service == null ? "unknown" : service;
    action = action == null ? "unknown" : action;
    Counter.builder("nixek.aws.calls").description("AWS API calls by service, action and error code (none: succeeded)")
        .tag("service", service).tag("action", action).tag("error", error).register(registry).increment();
    Long started = attributes.getAttribute(STARTED);
    if (started != null) {
      Buckets.timer("nixek.aws.call.duration", "AWS API calls' duration, the SDK's retries included", Buckets.CALL)
          .tag("service", service).tag("action", action).register(registry)
          .record(Duration.ofNanos(System.nanoTime() - started));
    }
  }
}
