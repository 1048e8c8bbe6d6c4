package dev.nixek.ci.operator.events;

import dev.nixek.ci.common.text.ControlChars;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records core/v1 Events about nixek-ci objects, so that {@code kubectl describe} shows what happened.
 *
 * <p>An Event's name is derived from the object, reason and message: recording the same thing again (a retried
 * reconcile) bumps the existing Event's count instead of adding a copy. Recording never fails a reconcile.
 */
public final class EventRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  private static final String COMPONENT = "nixek-operator";
  private static final int MAX_MESSAGE = 1024;

  private final KubernetesClient client;
  private final Clock clock;

  public EventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  public void record(HasMetadata about, EventReason reason, String message) {
    // escaped before it is cut, so the cut bounds what is stored; kubectl describe prints the message raw
    String escaped = ControlChars.escape(message);
    String msg = escaped.length() > MAX_MESSAGE ? escaped.substring(0, MAX_MESSAGE - 3) + "..." : escaped;
    String ns = about.getMetadata().getNamespace();
    String name = eventName(about, reason, msg);
    String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    try {
      var events = client.v1().events().inNamespace(ns);
      Event existing = events.withName(name).get();
      if (existing != null) {
        events.withName(name).edit(e -> {
          e.setCount(e.getCount() == null ? 2 : e.getCount() + 1);
          e.setLastTimestamp(now);
          return e;
        });
        return;
      }
      events.resource(new EventBuilder()
          .withNewMetadata().withName(name).withNamespace(ns).endMetadata()
          .withInvolvedObject(new ObjectReferenceBuilder()
              .withApiVersion(about.getApiVersion())
              .withKind(about.getKind())
              .withName(about.getMetadata().getName())
              .withNamespace(ns)
              .withUid(about.getMetadata().getUid())
              .withResourceVersion(about.getMetadata().getResourceVersion())
              .build())
          .withReason(reason.name())
          .withMessage(msg)
          .withType(reason.type().name())
          .withNewSource().withComponent(COMPONENT).endSource()
          .withReportingComponent(COMPONENT)
          .withFirstTimestamp(now)
          .withLastTimestamp(now)
          .withCount(1)
          .build()).create();
    } catch (KubernetesClientException e) {
      LOG.warn("could not record event {} on {}/{}: {}", reason, ns, about.getMetadata().getName(), e.getMessage());
    }
  }

  static String eventName(HasMetadata about, EventReason reason, String message) {
    String key = about.getMetadata().getUid() + "\0" + reason + "\0" + message;
    String base = about.getMetadata().getName();
    if (base.length() > 200) {
      base = base.substring(0, 200);
    }
    return base + "." + sha256(key).substring(0, 16);
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
