package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HealthHandlerTest {
  private final AtomicLong now = new AtomicLong(0);
  private final ApiHealth api = new ApiHealth(now::get);
  private final AtomicBoolean synced = new AtomicBoolean();
  private final AtomicBoolean watching = new AtomicBoolean();
  private final HealthHandler health = new HealthHandler(null, null, List.of(), api, new HealthHandler.TokenWatch() {
    @Override
    public boolean synced() {
      return synced.get();
    }

    @Override
    public boolean watching() {
      return watching.get();
    }
  }, Duration.ofSeconds(30));

  @Test
  void readyOnlyWithTheTokenRecordsLoadedTheirWatchConnectedAndTheApiAnsweringRecently() {
    api.reachable();
    assertThat(health.notReady()).hasValueSatisfying(m -> assertThat(m).startsWith("token records not loaded yet"));

    synced.set(true);
    assertThat(health.notReady()).hasValueSatisfying(m -> assertThat(m).contains("reconnecting"));

    watching.set(true);
    assertThat(health.notReady()).isEmpty();

    now.addAndGet(Duration.ofSeconds(31).toNanos());
    assertThat(health.notReady()).hasValue("Kubernetes API last reachable 31s ago");

    api.reachable();
    watching.set(false); // an API server restart: the watch reconnects
    assertThat(health.notReady()).hasValueSatisfying(m -> assertThat(m).contains("reconnecting"));
  }
}
