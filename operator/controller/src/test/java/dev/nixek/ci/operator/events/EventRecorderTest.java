package dev.nixek.ci.operator.events;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class EventRecorderTest {
  static KubernetesClient client;

  @Test
  void everyMessageIsStoredWithControlCharactersEscapedAndBounded() {
    EventRecorder events = new EventRecorder(client, Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC));
    var about = new ConfigMapBuilder().withNewMetadata().withName("j").withNamespace("ev").withUid("u1").endMetadata()
        .build();
    events.record(about, EventReason.InvalidSpec, "step said \u001b]0;retitled\u0007\u001b[2J\u007f");
    events.record(about, EventReason.InvalidSpec, "\u0007".repeat(2000));

    List<Event> stored = client.v1().events().inNamespace("ev").list().getItems();
    assertThat(stored).extracting(Event::getMessage).anySatisfy(m ->
        assertThat(m).isEqualTo("step said \\x1b]0;retitled\\x07\\x1b[2J\\x7f"));
    assertThat(stored).extracting(Event::getMessage).allSatisfy(m -> {
      assertThat(m.chars()).noneMatch(ch -> ch < 0x20 || ch >= 0x7f && ch <= 0x9f);
      assertThat(m.length()).isLessThanOrEqualTo(1024);
    });
  }
}
