package dev.nixek.ci.report;

import static dev.nixek.ci.report.Harness.NS;
import static dev.nixek.ci.report.Harness.OTHER_NS;
import static dev.nixek.ci.report.Harness.chunkJson;
import static dev.nixek.ci.report.Harness.finishedJson;
import static dev.nixek.ci.report.Harness.startedJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.text.JsonSize;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportError;
import dev.nixek.ci.report.Harness.Job;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
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

/** The report API end to end against the fabric8 mock apiserver: happy path, replays, every refusal, logs. */
class ReportApiIT {
  /** Small on purpose, so the happy path shows the tail being cut. */
  private static final int TAIL = 64;
  private static Harness h;
  private static final AtomicInteger NAMES = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    h = new Harness(Map.of("NIXEK_OUTPUT_TAIL_BYTES", String.valueOf(TAIL)));
  }

  @AfterAll
  static void stop() throws Exception {
    if (h != null) {
      h.close();
    }
  }

  /** {@code n} chunks of 50 bytes each, different per step and chunk. */
  private static List<byte[]> chunks(String step, int n) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(String.format("%-49s\n", step + " says line " + i).getBytes(StandardCharsets.UTF_8));
    }
    return out;
  }

  /** The tail the report API keeps: the end of the output taking at most {@code n} bytes as a JSON string. */
  private static String lastBytes(List<byte[]> chunks, int n) {
    StringBuilder all = new StringBuilder();
    chunks.forEach(c -> all.append(new String(c, StandardCharsets.UTF_8)));
    int start = all.length();
    long size = 0;
    while (start > 0 && size + JsonSize.of(all.codePointBefore(start)) <= n) {
      size += JsonSize.of(all.codePointBefore(start));
      start -= Character.charCount(all.codePointBefore(start));
    }
    return all.substring(start);
  }

  private static String sha128(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data), 0, 16);
  }

  private static NixekStepStatus succeeded(String name, int index, List<byte[]> chunks) throws Exception {
    NixekStepStatus s = new NixekStepStatus();
    s.name = name;
    s.state = State.Succeeded;
    s.exitCode = 0;
    s.startTime = "2026-11-25T10:01:0" + index + "Z";
    s.finishTime = "2026-11-25T10:02:0" + index + "Z";
    s.outputTail = lastBytes(chunks, TAIL);
    s.outputBytes = chunks.stream().mapToLong(c -> c.length).sum();
    s.outputChunks = (long) chunks.size();
    return s;
  }

  private static String operatorFields(NixekJobStatus s) {
    NixekJobStatus copy = Serialization.clone(s);
    copy.steps = null;
    return Serialization.asJson(copy);
  }

  @Test
  void happyPathWritesExactlyTheStepsAndNothingElse() throws Exception {
    Job j = h.createJob(NS, "happy", "build", "test");
    String operatorBefore = operatorFields(h.job(j).getStatus());
    List<byte[]> build = chunks("build", 3);
    List<byte[]> test = chunks("test", 3);

    h.runStep(j, 0, "build", build, 0);
    h.runStep(j, 1, "test", test, 0);

    NixekJob job = h.job(j);
    assertThat(Serialization.asJson(job.getStatus().steps))
        .isEqualTo(Serialization.asJson(List.of(succeeded("build", 0, build), succeeded("test", 1, test))));
    assertThat(job.getStatus().steps).allSatisfy(s -> {
      assertThat(s.outputTail.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(TAIL);
      assertThat(s.outputBytes).isEqualTo(150L);
      assertThat(s.timedOut).isNull();
    });
    assertThat(operatorFields(job.getStatus())).isEqualTo(operatorBefore);
    assertThat(job.getSpec().steps).hasSize(2);
  }

  @Test
  void aByteIdenticalReplayIsAcknowledgedAsDuplicateAndChangesNothing() {
    Job j = h.createJob(NS, "replay", "build", "test");
    String started = startedJson("build", "2026-11-25T10:01:00Z");
    byte[] data = "hello\n".getBytes(StandardCharsets.UTF_8);
    String chunk = chunkJson(0, 0, data);
    String finished = finishedJson(0, "2026-11-25T10:02:00Z", data.length);
    h.ok(j, j.path(0, "started"), started, "applied");
    h.ok(j, j.path(0, "output"), chunk, "applied");

    String before = h.snapshot(j);
    h.ok(j, j.path(0, "started"), started, "duplicate");
    h.ok(j, j.path(0, "output"), chunk, "duplicate");
    assertThat(h.snapshot(j)).isEqualTo(before);

    h.ok(j, j.path(0, "finished"), finished, "applied");
    before = h.snapshot(j);
    h.ok(j, j.path(0, "finished"), finished, "duplicate");
    h.ok(j, j.path(0, "output"), chunk, "duplicate");
    assertThat(h.snapshot(j)).isEqualTo(before);

    // once the job is over, a replay is still acknowledged (the agent may not have seen the first answer) ...
    h.finishJob(j, Conditions.FALSE, "Cancelled");
    before = h.snapshot(j);
    h.ok(j, j.path(0, "finished"), finished, "duplicate");
    assertThat(h.snapshot(j)).isEqualTo(before);
    // ... but anything new is refused: the token is dead
    HttpResponse<String> r = h.post(j.token(), j.path(1, "started"), startedJson("test", "2026-11-25T10:03:00Z"));
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(h.snapshot(j)).isEqualTo(before);
  }

  // --- the bad-input matrix ---

  /** The state each bad-input case starts from: step 0 done (2 chunks), step 1 running (2 chunks). */
  record Fixture(Job job, Job other) {}

  record Case(String name, int status, String error, BiFunction<Harness, Fixture, HttpResponse<String>> request) {
    @Override
    public String toString() {
      return status + " " + name;
    }
  }

  private static final byte[] A = "aaaa\n".getBytes(StandardCharsets.UTF_8);
  private static final byte[] B = "bbbb\n".getBytes(StandardCharsets.UTF_8);

  private static Fixture prepare() {
    int n = NAMES.incrementAndGet();
    Job j = h.createJob(NS, "m" + n, "build", "test");
    Job other = h.createJob(OTHER_NS, "o" + n, "build");
    h.runStep(j, 0, "build", List.of(A, B), 0);
    h.ok(j, j.path(1, "started"), startedJson("test", "2026-11-25T10:01:01Z"), "applied");
    h.ok(j, j.path(1, "output"), chunkJson(0, 0, A), "applied");
    h.ok(j, j.path(1, "output"), chunkJson(1, A.length, B), "applied");
    return new Fixture(j, other);
  }

  private static String nextChunk() {
    return chunkJson(2, 2L * A.length, A);
  }

  static Stream<Case> badInputs() {
    String jsonType = "application/json";
    return Stream.of(
        new Case("no Authorization header", 401, "unauthorized",
            (h, f) -> h.post(null, f.job().path(1, "output"), nextChunk())),
        new Case("malformed bearer token", 401, "unauthorized",
            (h, f) -> h.post("nxkjt_tooShort", f.job().path(1, "output"), nextChunk())),
        new Case("Basic instead of Bearer", 401, "unauthorized",
            (h, f) -> h.send(h.request(f.job().path(1, "output")).header("Content-Type", jsonType)
                .header("Authorization", "Basic " + f.job().token())
                .POST(BodyPublishers.ofString(nextChunk())).build())),
        new Case("well-formed token nobody issued", 401, "unauthorized",
            (h, f) -> h.post(h.unknownToken(), f.job().path(1, "output"), nextChunk())),
        new Case("token of a deleted job", 401, "unauthorized", (h, f) -> {
          h.client.resource(h.job(f.job())).delete();
          await().atMost(Duration.ofSeconds(5)).until(() -> h.job(f.job()) == null);
          // its record went with it
          h.awaitRecord(JobTokens.Purpose.STEPS, JobTokens.sha256Hex(f.job().token()), false);
          return h.post(f.job().token(), f.job().path(1, "output"), nextChunk());
        }),
        new Case("token of a deleted job whose name was reused", 401, "unauthorized", (h, f) -> {
          h.client.resource(h.job(f.job())).delete();
          await().atMost(Duration.ofSeconds(5)).until(() -> h.job(f.job()) == null);
          h.createJob(NS, f.job().name(), "build", "test"); // new UID, new token, new record
          h.awaitRecord(JobTokens.Purpose.STEPS, JobTokens.sha256Hex(f.job().token()), false);
          return h.post(f.job().token(), f.job().path(1, "output"), nextChunk());
        }),
        new Case("report after the job ended", 401, ReportWriter.TOKEN_REVOKED, (h, f) -> {
          h.finishJob(f.job(), Conditions.FALSE, "TimedOut");
          return h.post(f.job().token(), f.job().path(1, "output"), nextChunk());
        }),
        new Case("another job's token", 403, "forbidden",
            (h, f) -> h.post(f.other().token(), f.job().path(1, "output"), nextChunk())),
        new Case("unknown step index", 404, "unknown_step",
            (h, f) -> h.post(f.job().token(), f.job().path(7, "started"), startedJson("x", "2026-11-25T10:03:00Z"))),
        new Case("step index not an int", 404, "unknown_step",
            (h, f) -> h.post(f.job().token(), "/v1/jobs/" + NS + "/" + f.job().name() + "/steps/one/output",
                nextChunk())),
        new Case("unknown route", 404, "not_found",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "stdout"), nextChunk())),
        new Case("GET on a report endpoint", 405, "method_not_allowed",
            (h, f) -> h.send(h.request(f.job().path(1, "output"))
                .header("Authorization", "Bearer " + f.job().token()).GET().build())),
        new Case("chunk gap", 409, "conflict",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"), chunkJson(3, 3L * A.length, A))),
        new Case("chunk at the wrong offset", 409, "conflict",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"), chunkJson(2, 3, A))),
        new Case("finished again with another exit code", 409, "conflict",
            (h, f) -> h.post(f.job().token(), f.job().path(0, "finished"),
                finishedJson(1, "2026-11-25T10:02:00Z", 2L * A.length))),
        new Case("body over the limit (Content-Length)", 413, "body_too_large",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"), padded(40_000))),
        new Case("chunked body over the limit", 413, "body_too_large",
            (h, f) -> h.send(h.postRequest(f.job().token(), f.job().path(1, "output"),
                BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(
                    padded(200_000).getBytes(StandardCharsets.UTF_8)))).build())),
        new Case("wrong content type", 415, "unsupported_media_type",
            (h, f) -> h.send(h.request(f.job().path(1, "output")).header("Content-Type", "text/plain")
                .header("Authorization", "Bearer " + f.job().token())
                .POST(BodyPublishers.ofString(nextChunk())).build())),
        new Case("no content type", 415, "unsupported_media_type",
            (h, f) -> h.send(h.request(f.job().path(1, "output"))
                .header("Authorization", "Bearer " + f.job().token())
                .POST(BodyPublishers.ofString(nextChunk())).build())),
        new Case("malformed JSON", 400, "bad_request",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"), "{\"seq\": 2, \"offset\": ")),
        new Case("unknown field", 400, "bad_request",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"),
                "{\"seq\":2,\"offset\":10,\"data\":\"YWFhYQo=\",\"stream\":\"stderr\"}")),
        new Case("wrong type", 400, "bad_request",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"),
                "{\"seq\":\"two\",\"offset\":10,\"data\":\"YWFhYQo=\"}")),
        new Case("a number as a string", 400, "bad_request",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"),
                "{\"seq\":\"2\",\"offset\":10,\"data\":\"YWFhYQo=\"}")),
        new Case("a fraction where an integer belongs", 400, "bad_request",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"),
                "{\"seq\":2.5,\"offset\":10,\"data\":\"YWFhYQo=\"}")),
        new Case("a missing field", 400, "bad_request",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"), "{\"offset\":10,\"data\":\"YWFhYQo=\"}")),
        new Case("empty body", 400, "bad_request",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"), "")),
        new Case("JSON null", 400, "bad_request",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"), "null")),
        new Case("a key given twice", 400, "bad_request",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"),
                "{\"seq\":2,\"offset\":10,\"seq\":3,\"data\":\"YWFhYQo=\"}")),
        new Case("nesting deeper than any report", 400, "bad_request",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"),
                "{\"seq\":" + "[".repeat(5000) + "]".repeat(5000) + ",\"offset\":10,\"data\":\"YWFhYQo=\"}")),
        new Case("seq past a long", 400, "bad_request",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"),
                "{\"seq\":9223372036854775808,\"offset\":10,\"data\":\"YWFhYQo=\"}")),
        new Case("negative offset", 422, "invalid_report",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"), chunkJson(2, -10, A))),
        new Case("negative seq", 422, "invalid_report",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"), chunkJson(-1, 10, A))),
        new Case("%2F in the namespace", 404, "not_found",
            (h, f) -> h.post(f.job().token(), "/v1/jobs/" + NS + "%2F" + f.job().name() + "/steps/1/output",
                nextChunk())),
        new Case("data not base64", 422, "invalid_report",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"),
                "{\"seq\":2,\"offset\":10,\"data\":\"not base64!\"}")),
        new Case("decoded chunk over 16 KiB", 422, "invalid_report",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "output"), chunkJson(2, 10, new byte[16 * 1024 + 1]))),
        new Case("started with another step's name", 422, "invalid_report",
            (h, f) -> h.post(f.job().token(), f.job().path(1, "started"),
                startedJson("build", "2026-11-25T10:01:01Z"))));
  }

  /** A syntactically valid chunk report of about {@code size} bytes. */
  private static String padded(int size) {
    char[] pad = new char[size];
    Arrays.fill(pad, 'A');
    return "{\"seq\":2,\"offset\":10,\"data\":\"" + new String(pad) + "\"}";
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInputs")
  void aRefusedReportChangesNothing(Case c) throws Exception {
    Fixture f = prepare();
    String job = h.snapshot(f.job());
    String other = h.snapshot(f.other());
    boolean jobChangedBySetup = c.name().contains("deleted") || c.name().contains("ended");

    HttpResponse<String> r = c.request().apply(h, f);

    assertThat(r.statusCode()).as("status; body %s", r.body()).isEqualTo(c.status());
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    ReportError error = Json.mapper().readValue(r.body(), ReportError.class);
    assertThat(error.error()).isEqualTo(c.error());
    assertThat(error.message()).isNotBlank();
    if (c.status() == 401) {
      assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
    }
    assertThat(h.snapshot(f.other())).isEqualTo(other);
    if (!jobChangedBySetup) {
      assertThat(h.snapshot(f.job())).isEqualTo(job);
    }
  }

  /** The cases whose set-up changes the job (delete, replace, end it) compare against the state after set-up. */
  @Test
  void deadTokensChangeNothingAfterTheJobWasDeletedReplacedOrEnded() {
    Fixture deleted = prepare();
    h.client.resource(h.job(deleted.job())).delete();
    await().atMost(Duration.ofSeconds(5)).until(() -> h.job(deleted.job()) == null);
    assertThat(h.post(deleted.job().token(), deleted.job().path(1, "output"), nextChunk()).statusCode()).isEqualTo(401);
    assertThat(h.snapshot(deleted.job())).isEqualTo("<absent>");

    Fixture replaced = prepare();
    h.client.resource(h.job(replaced.job())).delete();
    await().atMost(Duration.ofSeconds(5)).until(() -> h.job(replaced.job()) == null);
    Job successor = h.createJob(NS, replaced.job().name(), "build", "test");
    String before = h.snapshot(successor);
    assertThat(h.post(replaced.job().token(), replaced.job().path(0, "started"),
        startedJson("build", "2026-11-25T10:01:00Z")).statusCode()).isEqualTo(401);
    assertThat(h.snapshot(successor)).isEqualTo(before);
    // the new job's own token works on the same path
    h.ok(successor, successor.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied");

    Fixture ended = prepare();
    h.finishJob(ended.job(), Conditions.TRUE, "Succeeded");
    before = h.snapshot(ended.job());
    assertThat(h.post(ended.job().token(), ended.job().path(1, "output"), nextChunk()).statusCode()).isEqualTo(401);
    assertThat(h.post(ended.job().token(), ended.job().path(1, "finished"),
        finishedJson(0, "2026-11-25T10:02:01Z", 2L * A.length)).statusCode()).isEqualTo(401);
    assertThat(h.snapshot(ended.job())).isEqualTo(before);
  }

  /**
   * Sends a request head and the first {@code body} bytes over a raw socket, then stops sending (the client neither
   * finishes nor closes) and reads what the server answers meanwhile: its status line.
   */
  private static String statusLineWhileStalled(Job j, String framing, byte[] body) throws Exception {
    try (Socket s = new Socket("127.0.0.1", h.port)) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(("POST " + j.path(0, "output") + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "Authorization: Bearer " + j.token() + "\r\n" + framing + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
    }
  }

  @Test
  void anOversizedBodyIsRefusedWithoutWaitingForTheRestOfIt() throws Exception {
    Job j = h.createJob(NS, "stalled", "build");
    String before = h.snapshot(j);
    byte[] kib = new byte[1024];
    Arrays.fill(kib, (byte) 'A');
    // Content-Length announces 10 MB and 1 KiB arrives: 413 from the header alone
    assertThat(statusLineWhileStalled(j, "Content-Length: 10000000\r\n", kib)).startsWith("HTTP/1.1 413");
    // chunked: 40 KiB arrive, past the 32 KiB limit, and the body never ends: 413 as soon as the limit is passed
    ByteArrayOutputStream chunks = new ByteArrayOutputStream();
    for (int i = 0; i < 40; i++) {
      chunks.write("400\r\n".getBytes(StandardCharsets.US_ASCII));
      chunks.write(kib);
      chunks.write("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    assertThat(statusLineWhileStalled(j, "Transfer-Encoding: chunked\r\n", chunks.toByteArray()))
        .startsWith("HTTP/1.1 413");
    assertThat(h.snapshot(j)).isEqualTo(before);
  }

  @Test
  void healthAndReadiness() {
    assertThat(h.send(h.request("/healthz").GET().build()).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(h.send(h.request("/readyz").GET().build()).statusCode()).isEqualTo(200));
  }

  @Test
  void noTokenEverReachesTheLogs() {
    // a spread of requests that log: good, replayed, refused, malformed, wrong job
    Fixture f = prepare();
    h.post(f.job().token(), f.job().path(1, "output"), nextChunk());
    h.post(f.job().token(), f.job().path(1, "output"), nextChunk());
    h.post(f.other().token(), f.job().path(1, "output"), nextChunk());
    h.post(f.job().token(), f.job().path(1, "output"), "{\"seq\":\"" + f.job().token() + "\"}");
    h.post(f.job().token() + "x", f.job().path(1, "output"), nextChunk());
    h.post(h.unknownToken(), f.job().path(1, "output"), nextChunk());
    h.finishJob(f.job(), Conditions.FALSE, "StepFailed");
    h.post(f.job().token(), f.job().path(1, "output"), chunkJson(3, 15, A));

    List<String> lines = CapturingAppender.lines();
    assertThat(lines).as("the test must capture the report API's logs").anyMatch(l -> l.contains("dev.nixek.ci.report"));
    for (String token : h.tokensSeen) {
      String secretPart = token.substring("nxkjt_".length());
      assertThat(lines).noneMatch(l -> l.contains(secretPart));
    }
  }
}
