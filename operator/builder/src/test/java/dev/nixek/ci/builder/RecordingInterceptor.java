package dev.nixek.ci.builder;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

/**
 * Records the S3 operations a client sends and lets a test act before one goes out (inject a failure, change
 * the file). The SDK's own interceptor hook: no mocking, the requests still go to a real S3 server.
 */
final class RecordingInterceptor implements ExecutionInterceptor {
  private final List<String> operations = Collections.synchronizedList(new ArrayList<>());
  private volatile Consumer<SdkRequest> before = request -> {};

  @Override
  public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
    operations.add(context.request().getClass().getSimpleName().replace("Request", ""));
    before.accept(context.request());
  }

  void before(Consumer<SdkRequest> action) {
    this.before = action;
  }

  List<String> operations() {
    synchronized (operations) {
      return List.copyOf(operations);
    }
  }

  long count(String operation) {
    return operations().stream().filter(operation::equals).count();
  }

  void reset() {
    operations.clear();
    before = request -> {};
  }
}
