package dev.nixek.ci.operator.cache;

import dev.nixek.ci.common.cache.CacheLayout;
import dev.nixek.ci.common.cache.CacheReadTokens;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.operator.config.ImageTrustOptions.TrustDomain;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's side of the trust domains' binary caches (docs/images.md#binary-cache) as pods see it: which domain
 * a namespace's pods are in, and what they are told ({@link CachePodSettings}: the domain's view, its public key and
 * a read token that expires with the pod). Built in {@code Main} when {@code NIXEK_CACHE_ENABLED} resolves to true.
 */
public final class BinaryCache {
  /** The cache domain of the whole cluster ({@code NIXEK_IMAGE_TRUST_DOMAIN=cluster}): never a namespace's name. */
  public static final String CLUSTER_DOMAIN = "*";
  /** A read token outlives its pod's deadline by this much: the pod starts some time after it is made. */
  static final Duration TOKEN_SLACK = Duration.ofMinutes(10);
  private static final Logger LOG = LoggerFactory.getLogger(BinaryCache.class);

  private final CacheLayout layout;
  private final String bucket;
  private final URI url;
  private final TrustDomain trust;
  private final CacheKeyStore keys;
  private final Supplier<Sealer> sealer;
  private final Clock clock;

  /**
   * @param url the caches' view as pods reach it (a domain's substituter is {@code <url>/<segment>})
   * @param sealer the operator's sealer: read tokens are MACs under a key derived from the seal key, which the
   *     report API (that checks them) reads too
   */
  public BinaryCache(CacheLayout layout, String bucket, URI url, TrustDomain trust, CacheKeyStore keys,
      Supplier<Sealer> sealer, Clock clock) {
    this.layout = layout;
    this.bucket = bucket;
    this.url = url;
    this.trust = trust;
    this.keys = keys;
    this.sealer = sealer;
    this.clock = clock;
  }

  /** The cache domain of {@code namespace}'s pods: the namespace itself, or the cluster's one domain. */
  public String domain(String namespace) {
    return trust == TrustDomain.CLUSTER ? CLUSTER_DOMAIN : namespace;
  }

  public CacheLayout layout() {
    return layout;
  }

  public String bucket() {
    return bucket;
  }

  public CacheKeyStore keys() {
    return keys;
  }

  /**
   * What a pod of {@code namespace} that may run for {@code deadline} is told; empty (the pod builds without the
   * domain's cache, and the log says why) when the domain's key or the seal key cannot be had now: a cache is an
   * optimisation, never a reason for a pod not to run.
   */
  public Optional<CachePodSettings> settings(String namespace, Duration deadline) {
    String domain = domain(namespace);
    try {
      Sealer s = sealer.get();
      String publicKey = keys.keyFor(domain).publicKey();
      Instant expiry = clock.instant().plus(deadline).plus(TOKEN_SLACK);
      return Optional.of(CachePodSettings.of(url, domain, publicKey, CacheReadTokens.of(s).mint(
          CacheLayout.segment(domain), expiry)));
    } catch (RuntimeException e) {
      LOG.warn("binary cache of trust domain '{}': pods start without it: {}", domain, e.toString());
      return Optional.empty();
    }
  }
}
