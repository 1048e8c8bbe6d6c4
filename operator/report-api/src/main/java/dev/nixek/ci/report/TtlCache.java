package dev.nixek.ci.report;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * A small map whose entries expire after a fixed time and whose size is bounded (the eldest entry goes first), for
 * answers that may be reused briefly but never kept: a TokenReview's or a SubjectAccessReview's, so that a
 * {@code kubectl nixek logs -f} reconnecting costs no API call, while a revoked right or token takes effect within
 * the TTL. Thread-safe.
 */
final class TtlCache<K, V> {
  private final long ttlNanos;
  private final int maxEntries;
  private final LongSupplier nanoClock;
  private final LinkedHashMap<K, Entry<V>> entries = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<K, Entry<V>> eldest) {
      return size() > maxEntries;
    }
  };

  private record Entry<V>(V value, long expiresAt) {}

  TtlCache(Duration ttl, int maxEntries, LongSupplier nanoClock) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be >= 1");
    }
    this.ttlNanos = ttl.toNanos();
    this.maxEntries = maxEntries;
    this.nanoClock = nanoClock;
  }

  synchronized Optional<V> get(K key) {
    Entry<V> e = entries.get(key);
    if (e == null) {
      return Optional.empty();
    }
    if (nanoClock.getAsLong() - e.expiresAt() >= 0) {
      entries.remove(key);
      return Optional.empty();
    }
    return Optional.of(e.value());
  }

  synchronized void put(K key, V value) {
    if (ttlNanos <= 0) {
      return;
    }
    // re-inserted at the end: a fresh answer is the last to be pushed out
    entries.remove(key);
    entries.put(key, new Entry<>(value, nanoClock.getAsLong() + ttlNanos));
  }

  synchronized int size() {
    return entries.size();
  }
}
