package dev.nixek.ci.e2e.bench;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.OutputChunk;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * JOBS jobs created as the operator makes them, each reported by a thread that behaves like the agent (one report
 * in flight, in order; 429/5xx/408/no answer retried with the same bytes after a jittered backoff, never before
 * Retry-After), on an open-loop schedule: report i of job j is due at start + (j + i * jobs) / rate, and its latency
 * runs from that moment to its 2xx, so a slow server cannot slow the offered load down (no coordinated omission).
 */
final class OpenLoopAgents {
  private final int jobs;
  private final int steps;
  private final int chunkBytes;
  private final KubernetesClient client;
  private final String namespace;
  private final String prefix;
  private final String baseUrl;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final JobTokens tokens = new JobTokens(JobTokens.newKey());
  private final List<String> names = new ArrayList<>();
  private final List<String> jobTokens = new ArrayList<>();

  // what the threads acknowledged, per job and step (written by the job's thread, read after join)
  private boolean[][] ackStarted;
  private long[][] ackChunks;
  private boolean[][] ackFinished;

  final Recorder recorder = new Recorder();
  final AtomicLong retries429 = new AtomicLong();
  final AtomicLong retries5xx = new AtomicLong();
  final AtomicLong retriesIo = new AtomicLong();
  final AtomicLong refused = new AtomicLong();
  final AtomicLong abandoned = new AtomicLong();
  final AtomicLong unsent = new AtomicLong();
  volatile String firstRefusal;

  OpenLoopAgents(KubernetesClient client, String namespace, String prefix, int jobs, int steps, int chunkBytes,
      String baseUrl) {
    this.client = client;
    this.namespace = namespace;
    this.prefix = prefix;
    this.jobs = jobs;
    this.steps = steps;
    this.chunkBytes = chunkBytes;
    this.baseUrl = baseUrl;
  }

  /** Creates the jobs with a Running condition and attempt 1's step token recorded, and waits until each is known. */
  void createJobs() throws InterruptedException {
    for (int j = 0; j < jobs; j++) {
      String name = prefix + "-" + j;
      NixekJob job = new NixekJob();
      job.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
      NixekJobSpec spec = new NixekJobSpec();
      spec.machineImageName = "img";
      spec.steps = new ArrayList<>();
      for (int s = 0; s < steps; s++) {
        NixekJobStep st = new NixekJobStep();
        st.name = "s" + s;
        st.run = "yes | head -c 100M";
        spec.steps.add(st);
      }
      job.setSpec(spec);
      NixekJob created = client.resource(job).create();
      String token = tokens.tokenFor(created.getMetadata().getUid(), 1);
      NixekJobStatus status = new NixekJobStatus();
      status.observedGeneration = 1L;
      status.conditions = Conditions.with(null, Conditions.SUCCEEDED, Conditions.UNKNOWN, "Running", "the job runs",
          1L, Instant.now());
      status.instanceId = "i-0123456789abcdef0";
      status.attempt = 1;
      status.startTime = Instant.now().toString();
      status.stepTokenSha256 = JobTokens.sha256Hex(token);
      created.setStatus(status);
      client.resource(created).updateStatus();
      names.add(name);
      jobTokens.add(token);
    }
    // a report for a step that does not exist: 404 once the report API's watch has the token, 401 before; no change
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    for (int j = 0; j < jobs; j++) {
      while (true) {
        int code = send(j, ReportPaths.step(namespace, names.get(j), 999, ReportPaths.STARTED),
            json(new StepStarted("none", Instant.now().toString())));
        if (code == 404) {
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the report API never accepted the token of " + names.get(j) + ": " + code);
        }
        Thread.sleep(100);
      }
    }
  }

  private int send(int job, String path, String body) {
    try {
      return http.send(request(job, path, body), BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }

  private HttpRequest request(int job, String path, String body) {
    return HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").header("Authorization", "Bearer " + jobTokens.get(job))
        .POST(BodyPublishers.ofString(body)).build();
  }

  /** Reports per job for {@code rate} reports/s over {@code duration}. */
  long perJob(double rate, Duration duration) {
    return Math.max(3, Math.round(rate * duration.toNanos() / 1e9 / jobs));
  }

  /**
   * Runs the schedule; reports not yet due or not yet acknowledged {@code drain} after its end are given up
   * (counted as unsent or abandoned). Returns the phase's start in System.nanoTime().
   */
  long run(double rate, Duration duration, Duration drain, long startNanos) throws InterruptedException {
    long n = perJob(rate, duration);
    long perStep = Math.max(3, (n + steps - 1) / steps);
    ackStarted = new boolean[jobs][steps];
    ackChunks = new long[jobs][steps];
    ackFinished = new boolean[jobs][steps];
    double intervalNanos = 1e9 * jobs / rate;
    long deadline = startNanos + duration.toNanos() + drain.toNanos();
    List<Thread> threads = new ArrayList<>();
    for (int j = 0; j < jobs; j++) {
      int job = j;
      double offset = 1e9 * j / rate;
      Thread t = new Thread(() -> runJob(job, n, perStep, startNanos, offset, intervalNanos, deadline),
          "agent-" + names.get(j));
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    return n;
  }

  /** Reports due by {@code atNanos}: the open loop's offered count. */
  long dueBy(double rate, long n, long startNanos, long atNanos) {
    long due = 0;
    double intervalNanos = 1e9 * jobs / rate;
    for (int j = 0; j < jobs; j++) {
      double since = atNanos - startNanos - 1e9 * j / rate;
      if (since >= 0) {
        due += Math.min(n, (long) Math.floor(since / intervalNanos) + 1);
      }
    }
    return due;
  }

  private void runJob(int job, long n, long perStep, long start, double offset, double interval, long deadline) {
    byte[] line = new byte[chunkBytes];
    for (long i = 0; i < n; i++) {
      long due = start + (long) (offset + i * interval);
      long now = System.nanoTime();
      if (now > deadline) {
        unsent.addAndGet(n - i);
        return;
      }
      if (due > now) {
        sleepNanos(due - now);
      }
      int step = (int) (i / perStep);
      long pos = i % perStep;
      long last = Math.min(perStep, n - step * perStep) - 1;
      String kind;
      String body;
      String time = Instant.now().toString();
      if (pos == 0) {
        kind = ReportPaths.STARTED;
        body = json(new StepStarted("s" + step, time));
      } else if (pos == last) {
        kind = ReportPaths.FINISHED;
        body = json(new StepFinished(0, time, (pos - 1) * chunkBytes, false));
      } else {
        kind = ReportPaths.OUTPUT;
        fill(line, job, step, pos - 1);
        body = json(new OutputChunk(pos - 1, (pos - 1) * chunkBytes, Base64.getEncoder().encodeToString(line)));
      }
      int code = deliver(job, ReportPaths.step(namespace, names.get(job), step, kind), body, due, deadline);
      if (code == -1) {
        abandoned.incrementAndGet();
        unsent.addAndGet(n - i - 1);
        return;
      }
      if (code / 100 != 2) {
        refused.incrementAndGet();
        unsent.addAndGet(n - i - 1);
        return;
      }
      switch (kind) {
        case ReportPaths.STARTED -> ackStarted[job][step] = true;
        case ReportPaths.FINISHED -> ackFinished[job][step] = true;
        default -> ackChunks[job][step]++;
      }
    }
  }

  /** Output chunks of step {@code step} of job {@code job} acknowledged in the last run (after {@link #run}). */
  long ackedChunks(int job, int step) {
    return ackChunks[job][step];
  }

  /** Job {@code job}'s name. */
  String name(int job) {
    return names.get(job);
  }

  /** The bytes chunk {@code seq} of a step carries (what {@link #run} sends), to compare with what was stored. */
  static byte[] chunk(int chunkBytes, int job, int step, long seq) {
    byte[] b = new byte[chunkBytes];
    fill(b, job, step, seq);
    return b;
  }

  /** Output that looks like a build log; a different line per chunk so no two chunks are alike. */
  private static void fill(byte[] line, int job, int step, long seq) {
    byte[] head = ("job " + job + " step " + step + " chunk " + seq + " ").getBytes(StandardCharsets.US_ASCII);
    Arrays.fill(line, (byte) 'x');
    System.arraycopy(head, 0, line, 0, Math.min(head.length, line.length));
    line[line.length - 1] = '\n';
  }

  /** The agent's delivery: the same bytes until a 2xx or a refusal; -1 when the deadline passes first. */
  private int deliver(int job, String path, String body, long due, long deadline) {
    HttpRequest req = request(job, path, body);
    long ceiling = Duration.ofMillis(200).toNanos();
    while (true) {
      long waitNanos;
      try {
        HttpResponse<String> r = http.send(req, BodyHandlers.ofString());
        int code = r.statusCode();
        if (code / 100 == 2) {
          long now = System.nanoTime();
          recorder.add(now - due, now);
          return code;
        }
        if (code != 429 && code != 408 && code < 500) {
          if (firstRefusal == null) {
            firstRefusal = code + " " + path + ": " + r.body();
          }
          return code;
        }
        (code == 429 ? retries429 : retries5xx).incrementAndGet();
        long retryAfter = r.headers().firstValue("Retry-After").map(OpenLoopAgents::seconds).orElse(0L);
        waitNanos = Math.max(jitter(ceiling), Duration.ofSeconds(Math.min(retryAfter, 300)).toNanos());
      } catch (IOException e) {
        retriesIo.incrementAndGet();
        waitNanos = jitter(ceiling);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return -1;
      }
      ceiling = Math.min(ceiling * 2, Duration.ofSeconds(5).toNanos());
      if (System.nanoTime() + waitNanos > deadline) {
        return -1;
      }
      sleepNanos(waitNanos);
    }
  }

  private static long jitter(long ceiling) {
    return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
  }

  private static long seconds(String v) {
    try {
      return Math.max(0, Long.parseLong(v.trim()));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** What the final status of every job says about the acknowledged reports. */
  record Check(long lost, long appliedUnacknowledged, String firstLoss) {}

  /** Reads every job and compares its steps with what was acknowledged. */
  Check verify() {
    long lost = 0;
    long extra = 0;
    String first = null;
    for (int j = 0; j < jobs; j++) {
      NixekJob job = client.resources(NixekJob.class).inNamespace(namespace).withName(names.get(j)).get();
      List<NixekStepStatus> st = job.getStatus() == null ? null : job.getStatus().steps;
      for (int s = 0; s < steps; s++) {
        NixekStepStatus step = st == null || st.size() <= s ? null : st.get(s);
        State state = step == null ? State.Pending : step.state;
        long chunks = step == null || step.outputChunks == null ? 0 : step.outputChunks;
        long bytes = step == null || step.outputBytes == null ? 0 : step.outputBytes;
        long missing = (ackStarted[j][s] && state == State.Pending ? 1 : 0)
            + Math.max(0, ackChunks[j][s] - chunks)
            + (ackFinished[j][s] && state != State.Succeeded ? 1 : 0)
            + (bytes != chunks * chunkBytes ? 1 : 0);
        if (missing > 0 && first == null) {
          first = names.get(j) + " step " + s + ": acknowledged started=" + ackStarted[j][s] + " chunks="
              + ackChunks[j][s] + " finished=" + ackFinished[j][s] + "; status " + state + " chunks=" + chunks
              + " bytes=" + bytes;
        }
        lost += missing;
        extra += Math.max(0, chunks - ackChunks[j][s]) + (!ackStarted[j][s] && state != State.Pending ? 1 : 0)
            + (!ackFinished[j][s] && state == State.Succeeded ? 1 : 0);
      }
    }
    return new Check(lost, extra, first);
  }

  /** Deletes the jobs, so that later phases' watches and lists do not carry them. */
  void deleteJobs() {
    for (String name : names) {
      client.resources(NixekJob.class).inNamespace(namespace).withName(name).delete();
    }
  }

  private static String json(Object o) {
    try {
      return Json.mapper().writeValueAsString(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static void sleepNanos(long nanos) {
    try {
      Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Latencies and acknowledgement times of one phase, in nanoseconds. */
  static final class Recorder {
    private long[] latencies = new long[1 << 16];
    private long[] acks = new long[1 << 16];
    private int size;

    synchronized void add(long latency, long at) {
      if (size == latencies.length) {
        latencies = Arrays.copyOf(latencies, size * 2);
        acks = Arrays.copyOf(acks, size * 2);
      }
      latencies[size] = latency;
      acks[size] = at;
      size++;
    }

    synchronized int size() {
      return size;
    }

    /** Latencies recorded from index {@code from} on, sorted. */
    synchronized long[] sortedFrom(int from) {
      long[] l = Arrays.copyOfRange(latencies, from, size);
      Arrays.sort(l);
      return l;
    }

    /** Acknowledgements at or before {@code atNanos}. */
    synchronized long ackedBy(long atNanos) {
      long c = 0;
      for (int i = 0; i < size; i++) {
        if (acks[i] <= atNanos) {
          c++;
        }
      }
      return c;
    }

    static double percentileMillis(long[] sorted, double p) {
      if (sorted.length == 0) {
        return Double.NaN;
      }
      int i = (int) Math.ceil(p / 100 * sorted.length) - 1;
      return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }
  }
}
