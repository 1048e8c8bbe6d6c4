package dev.nixek.ci.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.common.cache.CacheLayout;
import dev.nixek.ci.common.seal.SealKey;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.operator.config.ImageTrustOptions.TrustDomain;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A publish that fails (here: the staging bundle is not there) is a Warning Event on the image that says the image is
 * not affected, not an exception and not a retry; a bundle that holds nothing publishable still ends with its
 * staging object deleted. And a pod of a domain whose key cannot be had starts without the cache.
 */
@EnableKubernetesMockClient(crud = true)
class CachePublishingMockIT {
  static KubernetesClient client;

  @TempDir
  Path spool;

  private static NixekMachineImage image() {
    NixekMachineImage image = new NixekMachineImage();
    image.setMetadata(new ObjectMetaBuilder().withNamespace("team-a").withName("rust").withUid("u-1").build());
    return image;
  }

  @Test
  void aFailedPublishIsAWarningAndTheStagingObjectGoesEitherWay() throws Exception {
    CacheLayout layout = new CacheLayout("nixek-cache", "c0ffee");
    try (S3ProxyServer s3proxy = S3ProxyServer.start(); S3Client s3 = s3proxy.createBucket("caches").s3Client()) {
      BinaryCache cache = new BinaryCache(layout, "caches", URI.create("http://report/v1/cache"),
          TrustDomain.NAMESPACE, new CacheKeyStore(client, "nixek-system", "nixek-ci-cache-key", layout),
          () -> new Sealer(SealKey.random()), Clock.systemUTC());
      try (CachePublishing publishing = new CachePublishing(cache, () -> s3, new EventRecorder(client,
          Clock.systemUTC()), spool)) {
        publishing.publish(image(), "team-a", layout.stagingKey("team-a", "missing")).get(30, TimeUnit.SECONDS);
        String junk = layout.stagingKey("team-a", "junk");
        s3.putObject(r -> r.bucket("caches").key(junk), RequestBody.fromString("not a zip"));
        publishing.publish(image(), "team-a", junk).get(30, TimeUnit.SECONDS);
        assertThat(s3.listObjectsV2(r -> r.bucket("caches").prefix(layout.root("team-a"))).contents()).isEmpty();
      }
      var events = client.v1().events().inNamespace("team-a").list().getItems();
      assertThat(events).anySatisfy(e -> {
        assertThat(e.getReason()).isEqualTo("CachePublishFailed");
        assertThat(e.getType()).isEqualTo("Warning");
        assertThat(e.getMessage()).contains("the image is not affected", "not retried", "trust domain 'team-a'");
      });
      assertThat(events).map(Event::getReason).contains("CachePublished");

      // a master key Secret of the wrong shape: the pod is told nothing, and is not stopped
      BinaryCache broken = new BinaryCache(layout, "caches", URI.create("http://report/v1/cache"),
          TrustDomain.NAMESPACE, new CacheKeyStore(client, "nixek-system", "someone-elses", layout),
          () -> new Sealer(SealKey.random()), Clock.systemUTC());
      client.secrets().inNamespace("nixek-system").resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
          .withNewMetadata().withName("someone-elses").withNamespace("nixek-system").endMetadata().build()).create();
      assertThat(broken.settings("team-z", Duration.ofMinutes(10))).isEmpty();
      assertThat(cache.settings("team-a", Duration.ofMinutes(10))).hasValueSatisfying(s ->
          assertThat(s.netrc()).contains("password nxkc_"));
    }
  }
}
