package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.token.JobTokens;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The token records of every job the report API serves, kept current by a watch on NixekJobs: a record is the SHA-256
 * the operator wrote to the job's status ({@code status.stepTokenSha256}, {@code status.evaluationTokenSha256};
 * docs/architecture.md#token-protocol). A lookup is a map read: a flood of unknown tokens costs no API call and no
 * memory. Only what a lookup needs is kept of each job (name, UID, the two hashes, and the conditions once it ended),
 * so memory grows with the number of jobs, not with their steps or output.
 *
 * <p>The hash index is this class's own ({@link SlimStore}), not the informer's: fabric8's indexer reads without the
 * lock its writes hold, and an update removes a job's index entries before it adds them again, so a lookup racing the
 * watch event of a job's own previous report (every status write is one) could find nothing and answer a live
 * agent 401 — which ends its job. Here an update adds the job's new keys before it drops the old ones.
 */
final class TokenRecords implements AutoCloseable, HealthHandler.TokenWatch {
  private final List<SharedIndexInformer<NixekJob>> informers = new ArrayList<>();
  private final List<SlimStore> stores = new ArrayList<>();

  TokenRecords(KubernetesClient client, List<String> namespaces) {
    var jobs = client.resources(NixekJob.class);
    if (namespaces.isEmpty()) {
      informers.add(jobs.inAnyNamespace().runnableInformer(0));
    } else {
      for (String ns : namespaces) {
        informers.add(jobs.inNamespace(ns).runnableInformer(0));
      }
    }
    for (SharedIndexInformer<NixekJob> informer : informers) {
      SlimStore store = new SlimStore();
      stores.add(store);
      informer.itemStore(store);
    }
  }

  /** Starts the watches; completes once every one has its first list. */
  CompletableFuture<Void> start() {
    return CompletableFuture.allOf(informers.stream()
        .map(i -> i.start().toCompletableFuture()).toArray(CompletableFuture[]::new));
  }

  /** Whether every watch has listed its jobs once (before that, a miss proves nothing). */
  @Override
  public boolean synced() {
    return informers.stream().allMatch(SharedIndexInformer::hasSynced);
  }

  /**
   * Whether every watch is connected now. While one reconnects (an API server restart), a record written meanwhile
   * may be missing here, so a miss proves nothing.
   */
  @Override
  public boolean watching() {
    return informers.stream().allMatch(SharedIndexInformer::isWatching);
  }

  /** The records of {@code purpose} whose hash is {@code sha256Hex}: normally none or one. */
  List<TokenRecord> find(JobTokens.Purpose purpose, String sha256Hex) {
    List<TokenRecord> found = new ArrayList<>();
    for (SlimStore store : stores) {
      for (NixekJob job : store.byKey(key(purpose, sha256Hex))) {
        ObjectMeta m = job.getMetadata();
        found.add(new TokenRecord(m.getNamespace(), m.getName(), m.getUid(), JobTokens.tokenId(sha256Hex),
            sha256Hex, purpose));
      }
    }
    return found;
  }

  /** Whether the watch has seen {@code record}'s job end (a few milliseconds after the operator wrote it). */
  boolean ended(TokenRecord record) {
    String key = record.namespace() + "/" + record.jobName();
    for (SlimStore store : stores) {
      NixekJob job = store.get(key);
      if (job != null && record.jobUid().equals(job.getMetadata().getUid()) && Conditions.isTerminal(job.getStatus())) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }

  static List<String> keys(NixekJob job) {
    NixekJobStatus s = job.getStatus();
    if (s == null) {
      return List.of();
    }
    List<String> keys = new ArrayList<>(2);
    if (s.stepTokenSha256 != null) {
      keys.add(key(JobTokens.Purpose.STEPS, s.stepTokenSha256));
    }
    if (s.evaluationTokenSha256 != null) {
      keys.add(key(JobTokens.Purpose.EVALUATION, s.evaluationTokenSha256));
    }
    return keys;
  }

  static String key(JobTokens.Purpose purpose, String sha256Hex) {
    return purpose.label() + ":" + sha256Hex;
  }

  /** What {@link TokenRecord} and the index need of a job; the rest (spec, steps, tails) is dropped on arrival. */
  static NixekJob slim(NixekJob job) {
    NixekJob s = new NixekJob();
    ObjectMeta m = new ObjectMeta();
    m.setNamespace(job.getMetadata().getNamespace());
    m.setName(job.getMetadata().getName());
    m.setUid(job.getMetadata().getUid());
    m.setResourceVersion(job.getMetadata().getResourceVersion());
    s.setMetadata(m);
    if (job.getStatus() != null) {
      NixekJobStatus st = new NixekJobStatus();
      st.stepTokenSha256 = job.getStatus().stepTokenSha256;
      st.evaluationTokenSha256 = job.getStatus().evaluationTokenSha256;
      if (Conditions.isTerminal(job.getStatus())) {
        // whether the job ended: output is checked against the watch, not a read per chunk (OutputIngest)
        st.conditions = job.getStatus().conditions;
      }
      s.setStatus(st);
    }
    return s;
  }

  /**
   * The informer's store of slim jobs, with their index by token key ({@link #key}). Writes come from the informer
   * (one at a time); lookups from any request thread, without a lock: each key maps to an immutable set of item keys,
   * replaced whole, and an update adds the job under its new keys before it removes it from the keys it lost, so a
   * job whose hash did not change is found throughout.
   */
  static final class SlimStore implements ItemStore<NixekJob> {
    private final Map<String, NixekJob> items = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> byKey = new ConcurrentHashMap<>();

    @Override
    public String getKey(NixekJob job) {
      return Cache.metaNamespaceKeyFunc(job);
    }

    @Override
    public NixekJob put(String key, NixekJob job) {
      NixekJob slim = slim(job);
      List<String> now = keys(slim);
      for (String k : now) {
        byKey.compute(k, (kk, set) -> with(set, key));
      }
      NixekJob old = items.put(key, slim);
      if (old != null) {
        for (String k : keys(old)) {
          if (!now.contains(k)) {
            byKey.computeIfPresent(k, (kk, set) -> without(set, key));
          }
        }
      }
      return old;
    }

    @Override
    public NixekJob remove(String key) {
      NixekJob old = items.remove(key);
      if (old != null) {
        for (String k : keys(old)) {
          byKey.computeIfPresent(k, (kk, set) -> without(set, key));
        }
      }
      return old;
    }

    /** The jobs recorded under {@code key}, as they are now. */
    List<NixekJob> byKey(String key) {
      Set<String> itemKeys = byKey.get(key);
      if (itemKeys == null) {
        return List.of();
      }
      List<NixekJob> found = new ArrayList<>(itemKeys.size());
      for (String itemKey : itemKeys) {
        NixekJob job = items.get(itemKey);
        // an item replaced since the set was read counts only if it still has the key
        if (job != null && keys(job).contains(key)) {
          found.add(job);
        }
      }
      return found;
    }

    private static Set<String> with(Set<String> set, String itemKey) {
      if (set != null && set.contains(itemKey)) {
        return set;
      }
      Set<String> next = new HashSet<>(set == null ? Set.of() : set);
      next.add(itemKey);
      return Set.copyOf(next);
    }

    private static Set<String> without(Set<String> set, String itemKey) {
      if (!set.contains(itemKey)) {
        return set;
      }
      Set<String> next = new HashSet<>(set);
      next.remove(itemKey);
      return next.isEmpty() ? null : Set.copyOf(next);
    }

    @Override
    public Stream<String> keySet() {
      return items.keySet().stream();
    }

    @Override
    public Stream<NixekJob> values() {
      return items.values().stream();
    }

    @Override
    public int size() {
      return items.size();
    }

    @Override
    public NixekJob get(String key) {
      return items.get(key);
    }
  }
}
