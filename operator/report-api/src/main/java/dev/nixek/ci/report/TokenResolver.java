package dev.nixek.ci.report;

import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.token.JobTokens;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the job a token belongs to (docs/architecture.md#token-protocol: the token, not the path, names the job). The token Secret is found by
 * its {@code ci.nixek.dev/token-id} label, derived from the token's SHA-256, and the full hash is then compared in
 * constant time.
 *
 * <p>Found records are cached for a short while ({@link #cached}, non-blocking); a miss always falls back to listing
 * the Secrets ({@link #lookup}, blocking), since an agent may report right after its Secret was created. Misses are
 * never cached. A cached record of a deleted job is harmless: every report re-reads the job and refuses the token
 * when the job is gone or has another UID.
 */
final class TokenResolver {
  private static final Logger LOG = LoggerFactory.getLogger(TokenResolver.class);
  /** Only tokens of live jobs get here, so this bounds memory, not a working set. */
  private static final int MAX_CACHED = 10_000;
  private static final String DATA_KEY = "sha256";

  private final KubernetesClient client;
  private final List<String> namespaces;
  private final long ttlNanos;
  private final ApiHealth health;
  private final LongSupplier nanoClock;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();

  private record Cached(List<TokenRecord> records, long expiresAt) {}

  TokenResolver(KubernetesClient client, List<String> namespaces, Duration ttl, ApiHealth health,
      LongSupplier nanoClock) {
    this.client = client;
    this.namespaces = List.copyOf(namespaces);
    this.ttlNanos = ttl.toNanos();
    this.health = health;
    this.nanoClock = nanoClock;
  }

  /**
   * The record of the bearer token of {@code purpose} a request presents for the job in its path: 401 without such a
   * token (or with one of another purpose), 401 when no record matches, 403 when the token is another job's. Nothing
   * has a side effect; {@code what} names the request in the log.
   */
  Future<TokenRecord> authenticate(RoutingContext ctx, JobTokens.Purpose purpose, String what) {
    String token;
    try {
      token = BearerToken.from(ctx.request(), purpose);
    } catch (ApiError e) {
      return Future.failedFuture(e);
    }
    String namespace = ctx.pathParam("namespace");
    String name = ctx.pathParam("name");
    return resolve(ctx.vertx().getOrCreateContext(), token).map(record -> {
      if (record.purpose() != purpose) {
        // unreachable through the prefix check, unless a record's label lies: never let it through
        throw ApiError.unauthorized("this token may not be used here");
      }
      if (!record.namespace().equals(namespace) || !record.jobName().equals(name)) {
        LOG.info("403 {} for {}/{}: token {} belongs to job {}", what, namespace, name, record.tokenId(),
            record.jobKey());
        throw ApiError.forbidden("this token belongs to another job");
      }
      return record;
    });
  }

  /**
   * The token's record: from the cache, else looked up on a worker of {@code caller}'s context; fails with a 401
   * {@link ApiError} when no token Secret matches.
   */
  Future<TokenRecord> resolve(Context caller, String token) {
    Optional<TokenRecord> hit = cached(token);
    if (hit.isPresent()) {
      return Future.succeededFuture(hit.get());
    }
    return caller.executeBlocking(() -> lookup(token), false)
        .map(found -> found.orElseThrow(() -> {
          LOG.info("401: no token Secret matches token {}", JobTokens.tokenId(JobTokens.sha256Hex(token)));
          return ApiError.unauthorized("unknown or revoked token");
        }));
  }

  /** The token's record if a recent lookup found it; never blocks. */
  Optional<TokenRecord> cached(String token) {
    if (ttlNanos == 0) {
      return Optional.empty();
    }
    String tokenId = JobTokens.tokenId(JobTokens.sha256Hex(token));
    Cached c = cache.get(tokenId);
    if (c == null) {
      return Optional.empty();
    }
    if (nanoClock.getAsLong() - c.expiresAt() > 0) {
      cache.remove(tokenId, c);
      return Optional.empty();
    }
    return match(token, c.records());
  }

  /** The token's record from the Kubernetes API (blocking), or empty when no token Secret matches. */
  Optional<TokenRecord> lookup(String token) {
    String tokenId = JobTokens.tokenId(JobTokens.sha256Hex(token));
    Map<String, String> labels = Map.of(
        Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE,
        Labels.COMPONENT, Labels.COMPONENT_JOB_TOKEN,
        Labels.TOKEN_ID, tokenId);
    List<Secret> secrets = new ArrayList<>();
    if (namespaces.isEmpty()) {
      secrets.addAll(client.secrets().inAnyNamespace().withLabels(labels).list().getItems());
    } else {
      for (String ns : namespaces) {
        secrets.addAll(client.secrets().inNamespace(ns).withLabels(labels).list().getItems());
      }
    }
    health.reachable();
    List<TokenRecord> records = new ArrayList<>();
    for (Secret s : secrets) {
      toRecord(s, tokenId).ifPresent(records::add);
    }
    Optional<TokenRecord> found = match(token, records);
    if (found.isPresent() && ttlNanos > 0) {
      if (cache.size() >= MAX_CACHED) {
        long now = nanoClock.getAsLong();
        cache.values().removeIf(c -> now - c.expiresAt() > 0);
        if (cache.size() >= MAX_CACHED) {
          cache.clear();
        }
      }
      cache.put(tokenId, new Cached(List.copyOf(records), nanoClock.getAsLong() + ttlNanos));
    }
    return found;
  }

  /** Drops what is cached for this token, e.g. once its job turned out gone or finished. */
  void forget(TokenRecord record) {
    cache.remove(record.tokenId());
  }

  private static Optional<TokenRecord> match(String token, List<TokenRecord> candidates) {
    TokenRecord found = null;
    for (TokenRecord r : candidates) {
      if (JobTokens.matches(token, r.sha256Hex())) {
        if (found != null && !found.jobKey().equals(r.jobKey())) {
          LOG.warn("token id {} matches token Secrets of two jobs ({} and {}); refusing it", r.tokenId(),
              found.jobKey(), r.jobKey());
          return Optional.empty();
        }
        found = r;
      }
    }
    return Optional.ofNullable(found);
  }

  private static Optional<TokenRecord> toRecord(Secret s, String tokenId) {
    String where = s.getMetadata().getNamespace() + "/" + s.getMetadata().getName();
    Map<String, String> labels = s.getMetadata().getLabels() == null ? Map.of() : s.getMetadata().getLabels();
    Map<String, String> annotations = s.getMetadata().getAnnotations() == null ? Map.of()
        : s.getMetadata().getAnnotations();
    String jobUid = labels.get(Labels.JOB_UID);
    String jobName = annotations.get(Labels.JOB_NAME_ANNOTATION);
    String encoded = s.getData() == null ? null : s.getData().get(DATA_KEY);
    JobTokens.Purpose purpose = JobTokens.Purpose.ofLabel(labels.get(Labels.TOKEN_PURPOSE));
    if (purpose == null) {
      LOG.warn("token Secret {} has an unknown {} label; ignoring it", where, Labels.TOKEN_PURPOSE);
      return Optional.empty();
    }
    if (jobUid == null || jobName == null || encoded == null || !tokenId.equals(labels.get(Labels.TOKEN_ID))) {
      LOG.warn("token Secret {} lacks the job-uid label, the job-name annotation or data key '{}'; ignoring it", where,
          DATA_KEY);
      return Optional.empty();
    }
    String sha256;
    try {
      sha256 = new String(Base64.getMimeDecoder().decode(encoded), StandardCharsets.US_ASCII).trim();
    } catch (IllegalArgumentException e) {
      LOG.warn("token Secret {} has data '{}' that is not base64; ignoring it", where, DATA_KEY);
      return Optional.empty();
    }
    return Optional.of(new TokenRecord(s.getMetadata().getNamespace(), jobName, jobUid, tokenId, sha256, purpose));
  }
}
