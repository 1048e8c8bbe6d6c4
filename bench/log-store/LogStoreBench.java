// Put throughput and seal time of the step-log stores (dev.nixek.ci.common.logs), run by run.sh as a single-file
// java program on operator/common's class path. Not a test: nothing asserts a time.
import dev.nixek.ci.common.logs.LocalLogStore;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.LogStoreOptions;
import dev.nixek.ci.common.logs.LogStores;
import dev.nixek.ci.common.logs.StepLog;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

public class LogStoreBench {
  public static void main(String[] args) throws Exception {
    String kind = args[0]; // local DIR | s3 ENDPOINT
    String where = args[1];
    long putMiB = Long.parseLong(System.getenv().getOrDefault("PUT_MIB", "32"));
    long putChunksMax = Long.parseLong(System.getenv().getOrDefault("PUT_CHUNKS_MAX", "4000"));
    int sealMb = Integer.parseInt(System.getenv().getOrDefault("SEAL_MB", "50"));
    try (LogStore store = open(kind, where)) {
      // warm-up: class loading, connections, JIT
      put(store, 16 * 1024, 1, 300);
      for (int chunk : new int[] {16 * 1024, 1024}) {
        for (int threads : new int[] {1, 8}) {
          long chunks = Math.min(putChunksMax, putMiB * 1024 * 1024 / chunk);
          long t0 = System.nanoTime();
          double c0 = cpu();
          put(store, chunk, threads, chunks);
          double s = (System.nanoTime() - t0) / 1e9;
          System.out.printf("| %s | put | %d KiB | %d | %d | %.2f | %.1f | %.0f | %.1f |%n", kind, chunk / 1024,
              threads, chunks, s, chunks * (double) chunk / 1e6 / s, chunks / s, cpu() - c0);
        }
      }
      int chunk = 16 * 1024;
      int n = (sealMb * 1_000_000 + chunk - 1) / chunk;
      StepLog step = new StepLog("bench", "seal", UUID.randomUUID().toString(), 0);
      byte[][] data = chunks(chunk, n);
      long put0 = System.nanoTime();
      putRange(store, step, data, 8);
      double putS = (System.nanoTime() - put0) / 1e9;
      long t0 = System.nanoTime();
      double c0 = cpu();
      store.seal(step);
      double sealS = (System.nanoTime() - t0) / 1e9;
      double sealCpu = cpu() - c0;
      long r0 = System.nanoTime();
      c0 = cpu();
      long read = store.read(step, 0, Long.MAX_VALUE, OutputStream.nullOutputStream());
      double readS = (System.nanoTime() - r0) / 1e9;
      System.out.printf("| %s | seal %d MB (%d chunks of 16 KiB, put in %.1f s by 8 threads) | | | %d | %.2f | %.1f "
          + "| | %.1f |%n", kind, sealMb, n, putS, n, sealS, sealMb / sealS, sealCpu);
      System.out.printf("| %s | read sealed %d MB | | 1 | | %.2f | %.1f | | %.1f |%n", kind, read / 1_000_000, readS,
          read / 1e6 / readS, cpu() - c0);
      store.delete(step.job());
    }
  }

  /** CPU seconds this process (the store's caller: hashing, copying, the SDK) has used so far. */
  static double cpu() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
  }

  static LogStore open(String kind, String where) throws Exception {
    if (kind.equals("local")) {
      return new LocalLogStore(Path.of(where));
    }
    var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create("bench", "bench-secret-key"));
    // the client the report API builds (LogStores), from the options it reads
    return LogStores.open(LogStoreOptions.fromEnv(Map.of("NIXEK_LOG_STORE", "s3", "NIXEK_LOG_S3_BUCKET", "bench",
        "NIXEK_LOG_S3_PREFIX", "logs/", "NIXEK_LOG_S3_ENDPOINT", where)), credentials);
  }

  /** {@code chunks} chunks over {@code threads} steps, one writer thread per step (as one noisy step per agent). */
  static void put(LogStore store, int chunk, int threads, long chunks) throws Exception {
    byte[][] data = chunks(chunk, (int) (chunks / threads));
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        StepLog step = new StepLog("bench", "put", UUID.randomUUID().toString(), t);
        done.add(pool.submit(() -> {
          putRange(store, step, data, 1);
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    for (var job : store.jobs()) {
      if (job.job().jobName().equals("put")) {
        store.delete(job.job());
      }
    }
  }

  static void putRange(LogStore store, StepLog step, byte[][] data, int threads) throws Exception {
    long[] offsets = new long[data.length];
    for (int i = 1; i < data.length; i++) {
      offsets[i] = offsets[i - 1] + data[i - 1].length;
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int first = t;
        done.add(pool.submit(() -> {
          for (int i = first; i < data.length; i += threads) {
            store.put(step, i, offsets[i], data[i]);
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  static byte[][] chunks(int size, int n) {
    Random r = new Random(n);
    byte[][] out = new byte[n][size];
    for (byte[] b : out) {
      r.nextBytes(b);
    }
    return out;
  }
}
