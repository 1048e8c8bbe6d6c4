package dev.nixek.ci.report;

import static dev.nixek.ci.report.Harness.NS;
import static dev.nixek.ci.report.Harness.chunkJson;
import static dev.nixek.ci.report.Harness.finishedJson;
import static dev.nixek.ci.report.Harness.startedJson;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.protocol.OutputChunk;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * Output through the real HTTP report API into the log store, byte for byte: 50 MB of binary and UTF-8 (long lines
 * and none) stored identically (SHA-256); a report API restarted mid-step loses nothing; two report API instances
 * taking one step's chunks in turn make one correct log.
 */
class LogIngestIT {
  private static final Map<String, String> FAST = Map.of("NIXEK_REPORT_JOB_REPORTS_PER_SECOND", "10000");
  private static final int MB = 1024 * 1024;

  /** 50 MB: 20 MB random bytes, 20 MB UTF-8 text in lines up to 200 KB, 10 MB of text with no newline at all. */
  static byte[] output() {
    Random r = new Random(14);
    byte[] out = new byte[50 * MB];
    byte[] binary = new byte[20 * MB];
    r.nextBytes(binary);
    System.arraycopy(binary, 0, out, 0, binary.length);
    StringBuilder text = new StringBuilder();
    String[] words = {"build", "ok", "ü", "日本語", "🙂", "\t", "\u001b[31mred\u001b[0m", "\r", "naïve"};
    while (text.length() < 8 * MB) {
      int line = r.nextInt(200_000);
      for (int i = 0; i < line; i += 8) {
        text.append(words[r.nextInt(words.length)]).append(' ');
      }
      text.append('\n');
    }
    byte[] utf8 = text.toString().getBytes(StandardCharsets.UTF_8);
    int n = Math.min(utf8.length, 20 * MB);
    System.arraycopy(utf8, 0, out, 20 * MB, n);
    for (int i = 20 * MB + n; i < 40 * MB; i++) {
      out[i] = (byte) ('a' + (i % 26));
    }
    for (int i = 40 * MB; i < out.length; i++) {
      out[i] = (byte) ('A' + (i % 26)); // no newline in the last 10 MB
    }
    return out;
  }

  /** An agent sending {@code data} in full chunks, in order; {@code port(seq)} picks the report API for a chunk. */
  private static long send(Harness h, Harness.Job j, byte[] data, int fromSeq, int toSeq, IntFunction<Integer> port)
      throws Exception {
    long bytes = 0;
    for (int seq = fromSeq; seq < toSeq; seq++) {
      int off = seq * OutputChunk.MAX_BYTES;
      int len = Math.min(OutputChunk.MAX_BYTES, data.length - off);
      byte[] chunk = new byte[len];
      System.arraycopy(data, off, chunk, 0, len);
      HttpResponse<String> r = h.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.apply(seq)
              + j.path(0, "output"))).timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
          .header("Authorization", "Bearer " + j.token())
          .POST(HttpRequest.BodyPublishers.ofString(chunkJson(seq, off, chunk))).build());
      assertThat(r.statusCode()).as("chunk %d: %s", seq, r.body()).isEqualTo(200);
      assertThat(r.body()).contains("applied");
      bytes += len;
    }
    return bytes;
  }

  private static int chunks(byte[] data) {
    return (data.length + OutputChunk.MAX_BYTES - 1) / OutputChunk.MAX_BYTES;
  }

  private static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  private static String storedSha(Harness h, Harness.Job j) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    h.logs.read(new StepLog(j.namespace(), j.name(), j.uid(), 0), 0, Long.MAX_VALUE, new OutputStream() {
      @Override
      public void write(int b) {
        md.update((byte) b);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        md.update(b, off, len);
      }
    });
    return HexFormat.of().formatHex(md.digest());
  }

  private static void finish(Harness h, Harness.Job j, long bytes, int chunks, byte[] data) {
    h.ok(j, j.path(0, "finished"), finishedJson(0, "2026-11-25T10:02:00Z", bytes), "applied");
    NixekStepStatus s = h.job(j).getStatus().steps.get(0);
    assertThat(s.state).isEqualTo(State.Succeeded);
    assertThat(s.outputBytes).isEqualTo(bytes);
    assertThat(s.outputChunks).isEqualTo(chunks);
    assertThat(s.outputCutAtBytes).isNull();
    // the end of the stored bytes, as text: whichever replica wrote it, from its memory or the store
    assertThat(s.outputTail).isEqualTo(StepCursor.tailText(
        java.util.Arrays.copyOfRange(data, data.length - 4096, data.length), 4096));
  }

  @Test
  void fiftyMegabytesAreStoredByteIdentical() throws Exception {
    byte[] data = output();
    try (Harness h = new Harness(FAST)) {
      Harness.Job j = h.createJob(NS, "fifty", "build");
      h.ok(j, j.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied");
      long t0 = System.nanoTime();
      long bytes = send(h, j, data, 0, chunks(data), seq -> h.port);
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf("LogIngestIT: %d MB in %d chunks over HTTP in %.1f s: %.1f MB/s, %.0f chunks/s%n",
          bytes / MB, chunks(data), seconds, bytes / MB / seconds, chunks(data) / seconds);
      finish(h, j, bytes, chunks(data), data);
      assertThat(storedSha(h, j)).isEqualTo(sha256(data));
    }
  }

  @Test
  void aReportApiRestartedMidStepLosesNothing() throws Exception {
    byte[] data = new byte[5 * MB];
    new Random(1).nextBytes(data);
    int n = chunks(data);
    try (Harness h = new Harness(FAST)) {
      Harness.Job j = h.createJob(NS, "restart", "build");
      h.ok(j, j.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied");
      send(h, j, data, 0, n / 2, seq -> h.port);
      h.restartApi();
      // the agent did not get the answer to the last chunk before the crash: it sends it again
      int last = n / 2 - 1;
      byte[] again = new byte[OutputChunk.MAX_BYTES];
      System.arraycopy(data, last * OutputChunk.MAX_BYTES, again, 0, again.length);
      h.ok(j, j.path(0, "output"), chunkJson(last, (long) last * OutputChunk.MAX_BYTES, again), "duplicate");
      send(h, j, data, n / 2, n, seq -> h.port);
      finish(h, j, data.length, n, data);
      assertThat(storedSha(h, j)).isEqualTo(sha256(data));
    }
  }

  @Test
  void twoReportApisTakingChunksInTurnMakeOneLog() throws Exception {
    byte[] data = new byte[3 * MB + 12345];
    new Random(2).nextBytes(data);
    int n = chunks(data);
    try (Harness h = new Harness(FAST)) {
      ReportApi other = h.replica();
      try {
        Harness.Job j = h.createJob(NS, "replicas", "build");
        h.ok(j, j.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied");
        int otherPort = other.boundPort();
        awaitRecord(other, j);
        send(h, j, data, 0, n, seq -> seq % 2 == 0 ? h.port : otherPort);
        finish(h, j, data.length, n, data);
        assertThat(storedSha(h, j)).isEqualTo(sha256(data));
        // sealed after the answer
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
            .until(() -> h.logs.state(new StepLog(j.namespace(), j.name(), j.uid(), 0)).sealed());
      } finally {
        other.stop().toCompletionStage().toCompletableFuture().get();
      }
    }
  }

  private static void awaitRecord(ReportApi api, Harness.Job j) throws InterruptedException {
    String sha = dev.nixek.ci.common.token.JobTokens.sha256Hex(j.token());
    for (int i = 0; i < 2000 && api.tokenRecords().find(dev.nixek.ci.common.token.JobTokens.Purpose.STEPS, sha)
        .isEmpty(); i++) {
      Thread.sleep(5);
    }
  }
}
