package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.operator.cache.BinaryCache;
import dev.nixek.ci.operator.cache.CachePodSettings;
import dev.nixek.ci.operator.cache.CachePods;
import dev.nixek.ci.operator.cache.CachePublishing;
import dev.nixek.ci.operator.cache.CacheStaging;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.image.BuilderOutcome.Built;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The binary cache around a builder pod (docs/images.md#binary-cache): before the pod, the domain's settings and
 * read token and a staging grant go into its grant Secret and spec; after its result is recorded, the staging upload
 * is completed from S3's list of parts and handed to {@link CachePublishing}. Nothing here fails or delays the image:
 * a cache that cannot be had is logged, and the build runs without it.
 */
final class ImageCache {
  private static final Logger LOG = LoggerFactory.getLogger(ImageCache.class);

  private final BinaryCache cache;
  private final CacheStaging staging;
  private final CachePublishing publishing;
  private final EventRecorder events;
  private final Duration builderTimeout;

  ImageCache(BinaryCache cache, CacheStaging staging, CachePublishing publishing, EventRecorder events,
      Duration builderTimeout) {
    this.cache = cache;
    this.staging = staging;
    this.publishing = publishing;
    this.events = events;
    this.builderTimeout = builderTimeout;
  }

  /** What a builder pod gets: its grant Secret and pod with the cache, or the two unchanged. */
  record Prepared(Secret secret, Pod pod) {}

  Prepared prepare(NixekMachineImage image, Secret grantSecret, Pod pod) {
    String ns = image.getMetadata().getNamespace();
    Optional<CachePodSettings> settings = cache.settings(ns, builderTimeout);
    if (settings.isEmpty()) {
      return new Prepared(grantSecret, pod);
    }
    String secretName = grantSecret.getMetadata().getName();
    String key = cache.layout().stagingKey(cache.domain(ns), secretName);
    CacheStaging.Grant grant;
    try {
      grant = staging.open(key, builderTimeout.plusMinutes(10));
    } catch (RuntimeException e) {
      LOG.warn("image {}/{}: no cache staging upload, the build substitutes but pushes nothing: {}", ns,
          image.getMetadata().getName(), e.toString());
      return new Prepared(CachePods.withNetrc(grantSecret, settings.get()),
          CachePods.withSettings(pod, BuilderPods.CONTAINER, secretName, settings.get(), List.of()));
    }
    Secret secret = new SecretBuilder(CachePods.withNetrc(grantSecret, settings.get()))
        .addToData(CacheStaging.GRANT_KEY, Base64.getEncoder().encodeToString(
            grant.json().getBytes(StandardCharsets.UTF_8)))
        .build();
    Pod withCache = CachePods.withSettings(pod, BuilderPods.CONTAINER, secretName, settings.get(),
        List.of("--cache-grant", BuilderPods.UPLOAD_MOUNT + "/" + CacheStaging.GRANT_KEY));
    withCache.getMetadata().getAnnotations().put(CacheStaging.UPLOAD_ID_ANNOTATION, grant.uploadId());
    return new Prepared(secret, withCache);
  }

  /** The pod's staging upload will not be completed (a failed or refused build, a pod not used): abort it. */
  void abandon(Pod pod) {
    upload(pod).ifPresent(u -> {
      try {
        staging.abort(u.key(), u.id());
      } catch (RuntimeException e) {
        LOG.debug("cannot abort the cache staging upload {}: {}", u.key(), e.toString());
      }
    });
  }

  /**
   * The image's result is recorded: complete the pod's staging upload and publish it (asynchronously), or abort it
   * when the builder pushed nothing. Null when nothing is published.
   */
  Future<?> built(NixekMachineImage image, Pod pod, Built built) {
    Optional<Upload> upload = upload(pod);
    if (upload.isEmpty()) {
      return null;
    }
    String domain = cache.domain(image.getMetadata().getNamespace());
    BuilderOutcome.CachePush push = built.cache();
    try {
      if (push == null || push.size() <= 0) {
        staging.abort(upload.get().key(), upload.get().id());
        if (push != null && push.error() != null) {
          events.record(image, EventReason.CachePublishFailed, "the builder pushed nothing to the binary cache of "
              + "trust domain '" + domain + "' (the image is not affected): " + push.error());
        }
        return null;
      }
      Optional<String> refused = staging.complete(upload.get().key(), upload.get().id(), push.size());
      if (refused.isPresent() && refused.get().equals(CacheStaging.GONE)) {
        // images of one identity share the pod: the first to see its result publishes it
        return null;
      }
      if (refused.isPresent()) {
        events.record(image, EventReason.CachePublishFailed, "the build's cache bundle was not published to trust "
            + "domain '" + domain + "' (the image is not affected): " + refused.get());
        return null;
      }
      return publishing.publish(image, domain, upload.get().key());
    } catch (RuntimeException e) {
      LOG.warn("image {}/{}: the build's cache bundle was not published: {}", image.getMetadata().getNamespace(),
          image.getMetadata().getName(), e.toString());
      events.record(image, EventReason.CachePublishFailed, "the build's cache bundle was not published to trust "
          + "domain '" + domain + "' (the image is not affected): " + e.getMessage());
      return null;
    }
  }

  private record Upload(String key, String id) {}

  /**
   * The pod's staging upload. The key is derived again from the pod's namespace and its grant Secret's name (the
   * spec's volumes are immutable; an annotation is not), so whoever may edit pods cannot point the operator's
   * complete, publish and delete at another key.
   */
  private Optional<Upload> upload(Pod pod) {
    var a = pod.getMetadata().getAnnotations();
    String id = a == null ? null : a.get(CacheStaging.UPLOAD_ID_ANNOTATION);
    Optional<String> secret = pod.getSpec().getVolumes().stream()
        .filter(v -> BuilderPods.UPLOAD_VOLUME.equals(v.getName()) && v.getSecret() != null)
        .map(v -> v.getSecret().getSecretName()).findFirst();
    if (id == null || id.isBlank() || secret.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(new Upload(cache.layout().stagingKey(cache.domain(pod.getMetadata().getNamespace()),
          secret.get()), id));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
