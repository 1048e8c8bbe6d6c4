package dev.nixek.ci.report;

import static dev.nixek.ci.report.Harness.NS;
import static dev.nixek.ci.report.Harness.OTHER_NS;
import static dev.nixek.ci.report.Harness.chunkJson;
import static dev.nixek.ci.report.Harness.finishedJson;
import static dev.nixek.ci.report.Harness.startedJson;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.common.text.JsonSize;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportError;
import dev.nixek.ci.report.Harness.Job;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile text and replays against the report API (docs/security.md#text-hygiene): control characters never stored
 * or logged raw, budgets counted as stored, and only a byte-identical replay of a chunk is a duplicate.
 */
class HostileTextIT {
  private static final int TAIL = 512;
  private static final AtomicInteger NAMES = new AtomicInteger();
  private static final byte[] A = "aaaa\n".getBytes(StandardCharsets.UTF_8);
  private static final byte[] B = "bbbb\n".getBytes(StandardCharsets.UTF_8);
  private static Harness h;

  @BeforeAll
  static void start() throws Exception {
    // no flush during a test: a snapshot before and after a refused report must be equal
    h = new Harness(Map.of("NIXEK_OUTPUT_TAIL_BYTES", String.valueOf(TAIL), "NIXEK_REPORT_STATUS_INTERVAL_MILLIS",
        "60000"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (h != null) {
      h.close();
    }
  }

  /** A job whose step 0 is running with two chunks (A, B) applied. */
  private static Job running() {
    Job j = h.createJob(NS, "t" + NAMES.incrementAndGet(), "build", "test");
    h.ok(j, j.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied");
    h.ok(j, j.path(0, "output"), chunkJson(0, 0, A), "applied");
    h.ok(j, j.path(0, "output"), chunkJson(1, A.length, B), "applied");
    return j;
  }

  @Test
  void anOutputChunkWithAnsiSequencesIsStoredEscaped() {
    Job j = h.createJob(NS, "ansi", "build");
    h.ok(j, j.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied");
    byte[] hostile = "\u001b]0;pwned\u0007\u001b[2J\u001b[31mred\u001b[0m\r\n\u007f\u009b1m done\n"
        .getBytes(StandardCharsets.UTF_8);
    h.ok(j, j.path(0, "output"), chunkJson(0, 0, hostile), "applied");
    h.ok(j, j.path(0, "finished"), finishedJson(0, "2026-11-25T10:02:00Z", hostile.length), "applied");

    String tail = h.job(j).getStatus().steps.get(0).outputTail;
    assertThat(tail).isEqualTo("\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred\\x1b[0m\\x0d\n\\x7f\\u009b1m done\n");
    assertThat(tail.chars()).noneMatch(c -> c < 0x20 && c != '\n' || c >= 0x7f && c <= 0x9f);
  }

  @Test
  void theTailBudgetBoundsTheStoredJsonWhateverTheOutput() {
    for (char c : new char[] {'"', '\u007f', '<'}) {
      Job j = h.createJob(NS, "budget" + NAMES.incrementAndGet(), "build");
      h.ok(j, j.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied");
      byte[] chunk = new byte[4000];
      Arrays.fill(chunk, (byte) c);
      h.ok(j, j.path(0, "output"), chunkJson(0, 0, chunk), "applied");
      h.ok(j, j.path(0, "finished"), finishedJson(0, "2026-11-25T10:02:00Z", chunk.length), "applied");
      String tail = h.job(j).getStatus().steps.get(0).outputTail;
      assertThat(JsonSize.of(tail)).as("tail of U+%04X", (int) c).isLessThanOrEqualTo(TAIL)
          .isGreaterThan(TAIL - 6);
    }
  }

  // --- replays, in the bad-input matrix's style: the code, and nothing changed ---

  record Replay(String name, int status, String result, BiFunction<Harness, Job, HttpResponse<String>> request) {
    @Override
    public String toString() {
      return status + " " + name;
    }
  }

  static Stream<Replay> replays() {
    return Stream.of(
        new Replay("same seq, same bytes (the last chunk again)", 200, "duplicate",
            (h, j) -> h.post(j.token(), j.path(0, "output"), chunkJson(1, A.length, B))),
        new Replay("same seq, other bytes of the same length", 409, "conflict",
            (h, j) -> h.post(j.token(), j.path(0, "output"), chunkJson(1, A.length, A))),
        new Replay("same seq, fewer bytes", 409, "conflict",
            (h, j) -> h.post(j.token(), j.path(0, "output"), chunkJson(1, A.length, "b".getBytes()))),
        new Replay("same seq, same bytes at another offset", 409, "conflict",
            (h, j) -> h.post(j.token(), j.path(0, "output"), chunkJson(1, 0, B))),
        new Replay("an older seq, byte for byte (the store keeps every chunk)", 200, "duplicate",
            (h, j) -> h.post(j.token(), j.path(0, "output"), chunkJson(0, 0, A))),
        new Replay("an older seq, other bytes", 409, "conflict",
            (h, j) -> h.post(j.token(), j.path(0, "output"), chunkJson(0, 0, B))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("replays")
  void onlyAByteIdenticalReplayIsADuplicate(Replay c) throws Exception {
    Job j = running();
    String before = h.snapshot(j);
    var log = new dev.nixek.ci.common.logs.StepLog(NS, j.name(), j.uid(), 0);
    var stored = h.logs.state(log);

    HttpResponse<String> r = c.request().apply(h, j);

    assertThat(r.statusCode()).as("body %s", r.body()).isEqualTo(c.status());
    if (c.status() == 200) {
      assertThat(r.body()).isEqualTo("{\"result\":\"" + c.result() + "\"}");
    } else {
      assertThat(Json.mapper().readValue(r.body(), ReportError.class).error()).isEqualTo(c.result());
    }
    assertThat(h.snapshot(j)).isEqualTo(before);
    assertThat(h.logs.state(log)).isEqualTo(stored);
  }

  // --- hostile text in paths and bodies, in the bad-input matrix's style ---

  record Hostile(String name, int status, String error, BiFunction<Harness, Job, HttpResponse<String>> request) {
    @Override
    public String toString() {
      return status + " " + name;
    }
  }

  static Stream<Hostile> hostileInputs() {
    return Stream.of(
        new Hostile("%0A in the namespace", 403, "forbidden",
            (h, j) -> h.post(j.token(), "/v1/jobs/" + NS + "%0AINFO%20x/" + j.name() + "/steps/0/output",
                chunkJson(2, 10, A))),
        new Hostile("%0A in the job name", 403, "forbidden",
            (h, j) -> h.post(j.token(), "/v1/jobs/" + NS + "/" + j.name() + "%0A/steps/0/output", chunkJson(2, 10, A))),
        new Hostile("%2F in the job name", 403, "forbidden",
            (h, j) -> h.post(j.token(), "/v1/jobs/" + NS + "/" + j.name() + "%2Fx/steps/0/output", chunkJson(2, 10, A))),
        new Hostile("ESC in the step index", 404, "unknown_step",
            (h, j) -> h.post(j.token(), "/v1/jobs/" + NS + "/" + j.name() + "/steps/0%1B%5B2J/output",
                chunkJson(2, 10, A))),
        new Hostile("ANSI sequences in a started name", 422, "invalid_report",
            (h, j) -> h.post(j.token(), j.path(1, "started"), startedJson("\u001b[2Jtest", "2026-11-25T10:03:00Z"))),
        new Hostile("DEL in a started name", 422, "invalid_report",
            (h, j) -> h.post(j.token(), j.path(1, "started"), startedJson("te\u007fst", "2026-11-25T10:03:00Z"))),
        new Hostile("control characters in startTime", 422, "invalid_report",
            (h, j) -> h.post(j.token(), j.path(1, "started"), startedJson("test", "2026-11-25T10:03:00Z\u001b[2J"))),
        new Hostile("ESC in an unknown field's name", 400, "bad_request",
            (h, j) -> h.post(j.token(), j.path(0, "output"),
                "{\"seq\":2,\"offset\":10,\"data\":\"YWFhYQo=\",\"\\u001b[2J\":1}")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileInputs")
  void hostileTextIsRefusedChangingNothingAndNeverEchoedRaw(Hostile c) throws Exception {
    Job j = running();
    String before = h.snapshot(j);

    HttpResponse<String> r = c.request().apply(h, j);

    assertThat(r.statusCode()).as("body %s", r.body()).isEqualTo(c.status());
    ReportError error = Json.mapper().readValue(r.body(), ReportError.class);
    assertThat(error.error()).isEqualTo(c.error());
    assertThat(error.message()).isNotBlank().doesNotContain("\u001b").doesNotContain("\u007f").doesNotContain("\n");
    assertThat(h.snapshot(j)).isEqualTo(before);
    assertThat(LineCapture.lines()).noneMatch(l -> l.contains("\u001b") || l.contains("\u007f"));
  }

  // --- request data in logs and messages ---

  @Test
  void aLineFeedOrEscInAPathParameterNeverReachesTheLog() {
    Job j = running();
    Job other = h.createJob(OTHER_NS, "o" + NAMES.incrementAndGet(), "build");
    String forged = "2026-11-25T10:00:00Z INFO forged-by-path";
    // the other job's token on a path naming a namespace with a line feed and an ESC: a 403 that logs the path
    HttpResponse<String> r = h.post(other.token(), "/v1/jobs/" + NS + "%0A" + forged.replace(" ", "%20") + "%1B%5B2J/"
        + j.name() + "/steps/0/output", chunkJson(2, 10, A));
    assertThat(r.statusCode()).isEqualTo(403);

    // the 403 is logged naming the token's own job and the endpoint's kind, never the path a client chose; every
    // log line is escaped besides (OneLineMessageConverter), so neither a forged line nor an ESC gets through
    assertThat(LineCapture.lines()).filteredOn(l -> l.contains("403") && l.contains(other.name()))
        .as("the 403 is logged").singleElement().satisfies(l -> assertThat(l).startsWith("INFO "));
    assertThat(LineCapture.lines()).noneMatch(l -> l.contains("forged-by-path") || l.contains("\u001b"));
  }

  @Test
  void aStepNameInARefusalIsBoundedAndEscaped() throws Exception {
    Job j = running();
    String name = "\u001b[2J" + "x".repeat(20 * 1024); // as long as the body limit allows
    HttpResponse<String> r = h.post(j.token(), j.path(1, "started"), startedJson(name, "2026-11-25T10:03:00Z"));

    assertThat(r.statusCode()).isEqualTo(422);
    String message = Json.mapper().readValue(r.body(), ReportError.class).message();
    assertThat(message).contains("'\\u001B[2Jxxx").hasSizeLessThan(300).doesNotContain("\u001b");
    assertThat(LineCapture.lines()).filteredOn(l -> l.contains(j.name()) && l.contains("422"))
        .isNotEmpty().allSatisfy(l -> assertThat(l).hasSizeLessThan(600).doesNotContain("\u001b"));
  }
}
