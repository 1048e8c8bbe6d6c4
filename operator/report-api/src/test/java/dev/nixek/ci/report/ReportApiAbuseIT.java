package dev.nixek.ci.report;

import static dev.nixek.ci.report.Harness.NS;
import static dev.nixek.ci.report.Harness.OTHER_NS;
import static dev.nixek.ci.report.Harness.chunkJson;
import static dev.nixek.ci.report.Harness.startedJson;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.report.Harness.Job;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The report API under abuse (issue 16): who may get in, and what a request that does not get in costs. Matrix
 * cases go over raw sockets, so that what the JDK client would refuse to send (non-ASCII headers, two Authorization
 * headers, a body that never comes) is sent as an attacker would; each asserts the status and that the job did not
 * change. The tests after the matrix count what a flood costs: API calls, connections, log lines.
 */
class ReportApiAbuseIT {
  private static final AtomicInteger NAMES = new AtomicInteger();
  /** Failures are not limited here (the limit has its own harness below): the matrix sends many from one address. */
  private static Harness h;
  /** One-second request timeout, five failed authentications per minute, four connections. */
  private static Harness tight;

  @BeforeAll
  static void start() throws Exception {
    h = new Harness(Map.of("NIXEK_REPORT_AUTH_FAILURES_PER_MINUTE", "100000"));
    tight = new Harness(Map.of("NIXEK_REPORT_REQUEST_TIMEOUT_SECONDS", "1",
        "NIXEK_REPORT_AUTH_FAILURES_PER_MINUTE", "5", "NIXEK_REPORT_MAX_CONNECTIONS", "4"));
  }

  @AfterAll
  static void stop() throws Exception {
    for (Harness x : new Harness[] {h, tight}) {
      if (x != null) {
        x.close();
      }
    }
  }

  /** An answer read off a raw socket: the status (0 when the server closed without one) and the raw head + body. */
  record Raw(int status, String text) {
    boolean closes() {
      return text.toLowerCase().contains("connection: close");
    }
  }

  /** Sends {@code head} (CRLF line ends added) and {@code body} as they are, then reads the answer. */
  static Raw raw(Harness x, String head, byte[] body, int readTimeoutMillis) {
    try (Socket s = new Socket("127.0.0.1", x.port)) {
      s.setSoTimeout(readTimeoutMillis);
      OutputStream out = s.getOutputStream();
      out.write(head.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8));
      out.write(body);
      out.flush();
      return read(s.getInputStream());
    } catch (IOException e) {
      return new Raw(0, e.toString());
    }
  }

  private static Raw read(InputStream in) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      for (int n; (n = in.read(buf)) > 0; ) {
        got.write(buf, 0, n);
        String sofar = got.toString(StandardCharsets.UTF_8);
        int end = sofar.indexOf("\r\n\r\n");
        if (end >= 0 && sofar.contains("}")) {
          break;
        }
      }
    } catch (SocketTimeoutException | java.net.SocketException e) {
      // what came before is the answer
    }
    String text = got.toString(StandardCharsets.UTF_8);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("^HTTP/1\\.[01] ([0-9]{3})").matcher(text);
    int status = m.find() ? Integer.parseInt(m.group(1)) : 0;
    return new Raw(status, text);
  }

  static String post(String path, List<String> headers, int contentLength) {
    StringBuilder sb = new StringBuilder("POST " + path + " HTTP/1.1\nHost: 127.0.0.1\n"
        + "Content-Type: application/json\nContent-Length: " + contentLength + "\n");
    headers.forEach(x -> sb.append(x).append('\n'));
    return sb.append('\n').toString();
  }

  static Raw send(Harness x, String path, List<String> headers, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return raw(x, post(path, headers, b.length), b, 5000);
  }

  // --- the matrix ---

  /** {@code request} prepares what the case needs (before the snapshot) and returns the request to send. */
  record Case(String name, int status, BiFunction<Harness, Job, Supplier<Raw>> request) {
    @Override
    public String toString() {
      return status + " " + name;
    }
  }

  private static Job fixture(Harness x) {
    Job j = x.createJob(NS, "abuse-" + NAMES.incrementAndGet(), "build");
    x.ok(j, j.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied");
    return j;
  }

  private static String chunk() {
    return chunkJson(0, 0, "pwned\n".getBytes(StandardCharsets.UTF_8));
  }

  private static String bearer(String token) {
    return "Authorization: Bearer " + token;
  }

  static Stream<Case> abuse() {
    return Stream.of(
        new Case("a token of non-ASCII characters", 401, (x, j) -> () -> send(x, j.path(0, "output"),
            List.of(bearer("nxkjt_" + "é".repeat(43))), chunk())),
        new Case("a token with a non-ASCII character in the right place", 401, (x, j) -> () -> send(x, j.path(0, "output"),
            List.of(bearer(j.token().substring(0, 48) + "ß")), chunk())),
        new Case("the job's own token twice, in two Authorization headers", 401, (x, j) -> () -> send(x,
            j.path(0, "output"), List.of(bearer(j.token()), bearer(j.token())), chunk())),
        new Case("the job's token and an unknown one, in two Authorization headers", 401, (x, j) -> () -> send(x,
            j.path(0, "output"), List.of(bearer(x.unknownToken()), bearer(j.token())), chunk())),
        new Case("a forged token record: a Secret with the labels the operator once used", 401, (x, j) -> {
          // someone who may create Secrets in the namespace (not the job's status) records a token of their own
          String forged = x.unknownToken();
          String sha = JobTokens.sha256Hex(forged);
          x.client.resource(new SecretBuilder().withNewMetadata().withNamespace(j.namespace())
              .withName("nixek-token-" + j.uid())
              .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
              .addToLabels(Labels.COMPONENT, Labels.COMPONENT_JOB_TOKEN)
              .addToLabels(Labels.JOB_UID, j.uid())
              .addToLabels(Labels.TOKEN_ID, JobTokens.tokenId(sha))
              .addToLabels(Labels.TOKEN_PURPOSE, "steps")
              .addToAnnotations(Labels.JOB_NAME_ANNOTATION, j.name())
              .endMetadata()
              .addToData("sha256", Base64.getEncoder().encodeToString(sha.getBytes(StandardCharsets.US_ASCII)))
              .build()).create();
          return () -> send(x, j.path(0, "output"), List.of(bearer(forged)), chunk());
        }),
        new Case("an evaluation token on a step endpoint", 401, (x, j) -> () -> send(x, j.path(0, "output"),
            List.of(bearer(x.unknownEvaluationToken())), chunk())),
        new Case("a step token whose hash is recorded as the job's evaluation token (purpose mismatch)", 401,
            (x, j) -> {
              String token = x.unknownToken();
              x.recordToken(j.namespace(), j.name(), token, JobTokens.Purpose.EVALUATION);
              return () -> send(x, j.path(0, "output"), List.of(bearer(token)), chunk());
            }),
        new Case("an evaluation token whose hash is recorded as the job's step token (purpose mismatch)", 401,
            (x, j) -> {
              String token = x.unknownEvaluationToken();
              x.recordToken(j.namespace(), j.name(), token, JobTokens.Purpose.STEPS);
              return () -> send(x, ReportPaths.evaluation(j.namespace(), j.name()), List.of(bearer(token)),
                  "{\"steps\":[{\"name\":\"a\",\"run\":\"b\"}]}");
            }),
        new Case("a huge Content-Length without a valid token: refused before any body byte", 401,
            (x, j) -> () -> raw(x, post(j.path(0, "output"), List.of(bearer(x.unknownToken())), 100_000_000),
                new byte[0], 5000)),
        new Case("a huge Content-Length with another job's token: refused before any body byte", 403, (x, j) -> {
          Job other = x.createJob(OTHER_NS, "abuse-other-" + NAMES.incrementAndGet(), "build");
          return () -> raw(x, post(j.path(0, "output"), List.of(bearer(other.token())), 100_000_000), new byte[0],
              5000);
        }),
        new Case("a request line over 4 KiB", 414, (x, j) -> () -> send(x, j.path(0, "output") + "?" + "a".repeat(5000),
            List.of(bearer(j.token())), chunk())),
        new Case("headers over 8 KiB", 431, (x, j) -> () -> send(x, j.path(0, "output"),
            List.of(bearer(j.token()), "X-Pad: " + "a".repeat(9000)), chunk())));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("abuse")
  void anAbusiveRequestChangesNothing(Case c) {
    Job j = fixture(h);
    Supplier<Raw> request = c.request().apply(h, j);
    String before = h.snapshot(j);
    Raw r = request.get();
    assertThat(r.status()).as(r.text()).isEqualTo(c.status());
    if (c.status() == 401 || c.status() == 403) {
      assertThat(r.closes()).as("the connection ends with a refusal: its body is never read").isTrue();
    }
    assertThat(h.snapshot(j)).as("nothing changed").isEqualTo(before);
  }

  /**
   * A refusal says {@code Connection: close} and must mean it: a connection left open after it would hold one of the
   * {@code NIXEK_REPORT_MAX_CONNECTIONS} slots until the read-idle timeout, for every refused request of a client
   * that does not hang up itself (bench/report-load found them held 30 s).
   */
  @Test
  void aRefusedConnectionIsClosedByTheServerAtOnce() throws Exception {
    Job j = fixture(h);
    try (Socket s = new Socket("127.0.0.1", h.port)) {
      s.setSoTimeout(3_000);
      OutputStream out = s.getOutputStream();
      // a body announced and never sent: the server must not wait for it
      out.write(post(j.path(0, "output"), List.of(bearer(h.unknownToken())), 100_000).replace("\n", "\r\n")
          .getBytes(StandardCharsets.UTF_8));
      out.flush();
      Raw r = read(s.getInputStream());
      assertThat(r.status()).as(r.text()).isEqualTo(401);
      long started = System.nanoTime();
      assertThat(s.getInputStream().read()).as("closed by the server").isEqualTo(-1);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
    }
  }

  // --- attempts ---

  @Test
  void anOldAttemptsTokenIsRefused() {
    Job j = fixture(h);
    // the operator launches attempt 2: the new token's hash replaces the old one in the same status write
    String second = h.unknownToken();
    var job = h.job(j);
    job.getStatus().attempt = 2;
    job.getStatus().stepTokenSha256 = JobTokens.sha256Hex(second);
    h.client.resource(job).updateStatus();
    String before = h.snapshot(j);
    // a state change, no waiting for the watch: whatever it still holds, the write's own read refuses the old token
    var r = h.post(j.token(), j.path(0, "finished"), Harness.finishedJson(0, "2026-11-25T10:02:00Z", 6));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    assertThat(h.snapshot(j)).isEqualTo(before);
    // output reads no job: it is refused once the watch has the new record (docs/logs.md#ingest-and-coalesced-status;
    // a new attempt is made only when the old one reported nothing, so no old agent has a step to send output for)
    h.awaitRecord(JobTokens.Purpose.STEPS, JobTokens.sha256Hex(j.token()), false);
    var chunk = h.post(j.token(), j.path(0, "output"), chunk());
    assertThat(chunk.statusCode()).as(chunk.body()).isEqualTo(401);
    assertThat(h.snapshot(j)).isEqualTo(before);
    h.awaitRecord(JobTokens.Purpose.STEPS, JobTokens.sha256Hex(second), true);
    Job next = new Job(j.namespace(), j.name(), j.uid(), second);
    h.ok(next, j.path(0, "output"), chunk(), "applied");
  }

  // --- what a flood costs ---

  @Test
  void anUnknownTokenFloodMakesNoApiCallAndNoInfoLine() throws Exception {
    Job j = fixture(h);
    String before = h.snapshot(j);
    int linesBefore = CapturingAppender.lines().size();
    apiCalls();
    for (int i = 0; i < 300; i++) {
      var r = h.post(h.unknownToken(), j.path(0, "output"), chunk());
      assertThat(r.statusCode()).isEqualTo(401);
    }
    // the readiness probe's list of one job, and the seal key's read every 5 s until the operator makes it
    // (SealKeys), may fall in between: neither is a lookup
    assertThat(apiCalls()).as("API calls for 300 unknown tokens").allMatch(p -> p.contains("limit=1")
        || p.equals("GET /api/v1/namespaces/default/secrets/" + dev.nixek.ci.common.seal.SealKeyStore.DEFAULT_SECRET));
    List<String> lines = CapturingAppender.lines();
    assertThat(lines.subList(linesBefore, lines.size())).as("no INFO line per refused request")
        .noneMatch(l -> (l.startsWith("INFO") || l.startsWith("WARN")) && l.contains("dev.nixek"));
    assertThat(h.snapshot(j)).isEqualTo(before);
  }

  /** The Kubernetes API requests since the last call (method and path). */
  private static List<String> apiCalls() throws InterruptedException {
    List<String> calls = new ArrayList<>();
    for (io.fabric8.mockwebserver.http.RecordedRequest r; (r = h.kube.takeRequest(50, TimeUnit.MILLISECONDS)) != null; ) {
      calls.add(r.getMethod() + " " + r.getPath());
    }
    return calls;
  }

  @Test
  void failedAuthenticationsFromOneClientGet429WithRetryAfterButAGoodTokenStillWorks() {
    Job j = fixture(tight);
    String before = tight.snapshot(j);
    List<Integer> codes = new ArrayList<>();
    Raw last = null;
    for (int i = 0; i < 8; i++) {
      last = send(tight, j.path(0, "output"), List.of(bearer(tight.unknownToken())), chunk());
      codes.add(last.status());
    }
    assertThat(codes).containsExactly(401, 401, 401, 401, 401, 429, 429, 429);
    assertThat(last.text()).containsIgnoringCase("Retry-After: ");
    int retryAfter = Integer.parseInt(last.text().replaceAll("(?is).*retry-after: *([0-9]+).*", "$1"));
    assertThat(retryAfter).isBetween(1, 60);
    assertThat(tight.snapshot(j)).isEqualTo(before);
    // only failures count: the job's own agent behind the same address is not slowed down
    Raw good = send(tight, j.path(0, "output"), List.of(bearer(j.token())), chunk());
    assertThat(good.status()).as(good.text()).isEqualTo(200);
  }

  @Test
  void aJobSendingFasterThanItsRateGets429WithRetryAfterAndNothingChangesWhileOtherJobsGoOn() throws Exception {
    // no status flush during the test: the snapshot after the refusal must equal the one before
    try (Harness slow = new Harness(Map.of("NIXEK_REPORT_JOB_REPORTS_PER_SECOND", "1",
        "NIXEK_REPORT_STATUS_INTERVAL_MILLIS", "60000"))) {
      Job j = slow.createJob(NS, "noisy", "build");
      Job other = slow.createJob(NS, "quiet", "build");
      // one a second, two at once: started and the first chunk pass
      slow.ok(j, j.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied");
      byte[] first = "one\n".getBytes(StandardCharsets.UTF_8);
      // taken before the first chunk, which changes only the log store (status is flushed far later here)
      String before = slow.snapshot(j);
      slow.ok(j, j.path(0, "output"), chunkJson(0, 0, first), "applied");
      String second = chunkJson(1, first.length, "two\n".getBytes(StandardCharsets.UTF_8));

      // three at once: the bucket holds two at most, however slow the machine was since started
      List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>>> burst = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        burst.add(slow.postAsync(j.token(), j.path(0, "output"), second));
      }
      List<java.net.http.HttpResponse<String>> answers = new ArrayList<>();
      for (var f : burst) {
        answers.add(f.get(20, java.util.concurrent.TimeUnit.SECONDS));
      }
      assertThat(answers).allSatisfy(r -> assertThat(r.statusCode()).as(r.body()).isIn(200, 429));
      var refused = answers.stream().filter(r -> r.statusCode() == 429).findFirst().orElseThrow();

      assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(refused.body()).contains("\"error\":\"too_many_requests\"")
          .contains("faster than 1 a second");
      assertThat(slow.snapshot(j)).isEqualTo(before);
      slow.ok(other, other.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied");
      // what the agent does: wait Retry-After, send the same bytes again
      Thread.sleep(1_100);
      var again = slow.post(j.token(), j.path(0, "output"), second);
      assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    }
  }

  @Test
  void aBodySentTooSlowlyGets408AndItsConnectionIsClosed() throws Exception {
    Job j = fixture(tight);
    String before = tight.snapshot(j);
    byte[] body = chunk().getBytes(StandardCharsets.UTF_8);
    try (Socket s = new Socket("127.0.0.1", tight.port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(post(j.path(0, "output"), List.of(bearer(j.token())), body.length).replace("\n", "\r\n")
          .getBytes(StandardCharsets.UTF_8));
      out.write(body, 0, 5); // and then nothing more
      out.flush();
      long started = System.nanoTime();
      Raw r = read(s.getInputStream());
      assertThat(r.status()).as(r.text()).isIn(408, 0);
      assertThat(s.getInputStream().read()).as("closed").isEqualTo(-1);
      assertThat((System.nanoTime() - started) / 1_000_000).as("held no longer than the timeout allows")
          .isLessThan(9_000);
    }
    assertThat(tight.snapshot(j)).isEqualTo(before);
  }

  @Test
  void connectionsOverTheCapAreClosedAndSlowOnesGoAway() throws Exception {
    List<Socket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        Socket s = new Socket("127.0.0.1", tight.port);
        // headers never finished: what a slow-loris client holds
        s.getOutputStream().write("POST /v1/jobs/ci/x/steps/0/output HTTP/1.1\r\n".getBytes(StandardCharsets.UTF_8));
        held.add(s);
      }
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
          .until(() -> tight.api.openConnections() >= 4);
      try (Socket fifth = new Socket("127.0.0.1", tight.port)) {
        fifth.setSoTimeout(5000);
        int got;
        try {
          got = fifth.getInputStream().read();
        } catch (java.net.SocketException e) {
          got = -1;
        }
        assertThat(got).as("the fifth connection is closed at once").isEqualTo(-1);
      }
      // the four that send nothing more are closed by the read timeout: nothing is held for good
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
          .until(() -> tight.api.openConnections() == 0);
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }
}
