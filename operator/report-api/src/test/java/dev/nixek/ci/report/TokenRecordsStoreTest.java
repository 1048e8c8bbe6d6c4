package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.common.token.JobTokens;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenRecordsStoreTest {
  private static final String A = "a".repeat(64);
  private static final String B = "b".repeat(64);

  private final TokenRecords.SlimStore store = new TokenRecords.SlimStore();

  private static NixekJob job(String name, long resourceVersion, String stepSha, String evaluationSha) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace("ci").withName(name).withUid("uid-" + name)
        .withResourceVersion(Long.toString(resourceVersion)).build());
    job.setStatus(new NixekJobStatus());
    job.getStatus().stepTokenSha256 = stepSha;
    job.getStatus().evaluationTokenSha256 = evaluationSha;
    return job;
  }

  private void put(NixekJob job) {
    store.put(store.getKey(job), job);
  }

  private static String steps(String sha) {
    return TokenRecords.key(JobTokens.Purpose.STEPS, sha);
  }

  private static String evaluation(String sha) {
    return TokenRecords.key(JobTokens.Purpose.EVALUATION, sha);
  }

  @Test
  void aJobIsFoundUnderItsKeysOnlyAndAKeyItLostIsForgotten() {
    put(job("a", 1, null, A));
    assertThat(store.byKey(evaluation(A))).extracting(j -> j.getMetadata().getName()).containsExactly("a");
    assertThat(store.byKey(steps(A))).as("the purpose is part of the key").isEmpty();

    put(job("a", 2, B, null)); // evaluated, then launched: the evaluation record goes, the step record comes
    assertThat(store.byKey(evaluation(A))).isEmpty();
    assertThat(store.byKey(steps(B))).extracting(j -> j.getMetadata().getResourceVersion()).containsExactly("2");

    store.remove("ci/a");
    assertThat(store.byKey(steps(B))).isEmpty();
  }

  @Test
  void twoJobsWithOneHashAreBothFound() {
    put(job("a", 1, A, null));
    put(job("forged", 1, A, null));
    assertThat(store.byKey(steps(A))).hasSize(2);
    store.remove("ci/forged");
    assertThat(store.byKey(steps(A))).hasSize(1);
  }

  /**
   * Every status write of the report API comes back as a watch event that updates the job here, while the agent's next
   * report looks its token up: the lookup must never miss a job whose hash did not change (fabric8's own indexer can:
   * it drops a job's index entries before adding them again, and reads without its lock).
   */
  @Test
  void aJobWhoseHashDidNotChangeIsFoundThroughoutItsUpdates() throws Exception {
    put(job("a", 1, A, null));
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong lookups = new AtomicLong();
    AtomicLong misses = new AtomicLong();
    Thread reader = new Thread(() -> {
      while (!done.get()) {
        lookups.incrementAndGet();
        if (store.byKey(steps(A)).isEmpty()) {
          misses.incrementAndGet();
        }
      }
    });
    reader.start();
    for (long rv = 2; rv < 200_000; rv++) {
      put(job("a", rv, A, rv % 2 == 0 ? B : null)); // the other key comes and goes meanwhile
    }
    done.set(true);
    reader.join();

    assertThat(lookups.get()).isPositive();
    assertThat(misses.get()).as("lookups that found nothing, of %d", lookups.get()).isZero();
  }
}
