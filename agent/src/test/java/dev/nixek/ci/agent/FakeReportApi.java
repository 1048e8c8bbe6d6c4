package dev.nixek.ci.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.nixek.ci.protocol.AgentEnded;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.OutputChunk;
import dev.nixek.ci.protocol.ReportAck;
import dev.nixek.ci.protocol.ReportError;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A report API for tests, on a real HTTP server: it checks what the real one checks (bearer token, content type,
 * strict order of started / chunks by seq and offset / finished, byte-identical replays) and records every
 * request. Faults can be injected per request, it can refuse the job (401), and it can be stopped and started
 * again on the same port while keeping its state.
 */
final class FakeReportApi implements AutoCloseable {
  /** What to do to one matching request instead of answering normally. */
  enum Fault {
    /** 503 without applying. */
    FAIL_503,
    /** Apply, then answer 503: the agent must replay byte-identically and get "duplicate". */
    APPLY_THEN_503,
    /** Apply, then close the connection without an answer. */
    APPLY_THEN_DROP,
    /** 409 without applying; the step's expected seq/offset skip past the chunk (the agent stops, exit 4). */
    CONFLICT_409,
    /** 409 without applying or changing anything (any kind of report). */
    REFUSE_409
  }

  /** One request as it arrived. */
  record Arrival(long nanos, int step, String kind, long seq, String bodySha256, int status, String result) {}

  /** What the server holds for one step. */
  static final class Step {
    StepStarted started;
    StepFinished finished;
    String startedSha;
    String finishedSha;
    long nextSeq;
    long nextOffset;
    long appliedBytes;
    final Map<Long, String> chunkSha = new HashMap<>();
    final List<Long> chunkNanos = new ArrayList<>();
    long finishedNanos;
    final ByteArrayOutputStream head = new ByteArrayOutputStream();
    final MessageDigest digest = sha256();
  }

  private static final Pattern STEP_PATH = Pattern.compile("/steps/(\\d+)/(started|output|finished)");
  private static final int KEEP_OUTPUT_BYTES = 1024 * 1024;

  private final String token;
  private final String jobPath;
  private final Object lock = new Object();
  private final List<Arrival> arrivals = new ArrayList<>();
  private final List<String> violations = new ArrayList<>();
  private final List<AgentEnded> ended = new ArrayList<>();
  private final List<Step> steps = new ArrayList<>();
  private final List<Map.Entry<Predicate<Arrival>, Fault>> faults = new ArrayList<>();
  private boolean refusing;
  private Map<String, byte[]> secrets = Map.of();
  private int secretFetches;
  private int secret503s;
  private int unknownFor;
  private HttpServer server;
  private int port;

  FakeReportApi(String token, String namespace, String name) throws IOException {
    this.token = token;
    this.jobPath = ReportPaths.job(namespace, name);
    start();
  }

  /** What {@code GET .../secrets} serves; the first {@code failures} fetches get 503. */
  void serveSecrets(Map<String, byte[]> values, int failures) {
    synchronized (lock) {
      secrets = Map.copyOf(values);
      secret503s = failures;
    }
  }

  int secretFetches() {
    synchronized (lock) {
      return secretFetches;
    }
  }

  String url() {
    return "http://127.0.0.1:" + port;
  }

  synchronized void start() throws IOException {
    if (server != null) {
      return;
    }
    HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
    s.createContext("/", this::handle);
    s.start();
    port = s.getAddress().getPort();
    server = s;
  }

  /** Stops listening (connections are refused) but keeps every recorded report. */
  synchronized void stop() {
    if (server != null) {
      server.stop(0);
      server = null;
    }
  }

  @Override
  public void close() {
    stop();
  }

  /** The next request matching {@code which} gets {@code fault}. */
  void inject(Predicate<Arrival> which, Fault fault) {
    synchronized (lock) {
      faults.add(Map.entry(which, fault));
    }
  }

  /** From now on every report is answered 401, as for a cancelled job. */
  void refuse() {
    synchronized (lock) {
      refusing = true;
    }
  }

  /**
   * The next {@code n} requests are answered 401 "unknown or revoked token", as by a report API whose watch has not
   * delivered the job's token record yet.
   */
  void unknownTokenFor(int n) {
    synchronized (lock) {
      unknownFor = n;
    }
  }

  List<Arrival> arrivals() {
    synchronized (lock) {
      return List.copyOf(arrivals);
    }
  }

  List<String> violations() {
    synchronized (lock) {
      return List.copyOf(violations);
    }
  }

  /** Every agent-ended report received, in order. */
  List<AgentEnded> ended() {
    synchronized (lock) {
      return List.copyOf(ended);
    }
  }

  int stepCount() {
    synchronized (lock) {
      return steps.size();
    }
  }

  int chunks(int step) {
    synchronized (lock) {
      return step < steps.size() ? steps.get(step).chunkNanos.size() : 0;
    }
  }

  StepStarted started(int step) {
    synchronized (lock) {
      return step < steps.size() ? steps.get(step).started : null;
    }
  }

  StepFinished finished(int step) {
    synchronized (lock) {
      return step < steps.size() ? steps.get(step).finished : null;
    }
  }

  /** The step's output as reassembled from chunks (the first MiB of it). */
  String output(int step) {
    synchronized (lock) {
      return steps.get(step).head.toString(java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  long outputBytes(int step) {
    synchronized (lock) {
      return steps.get(step).appliedBytes;
    }
  }

  String outputSha256(int step) {
    synchronized (lock) {
      try {
        return HexFormat.of().formatHex(((MessageDigest) steps.get(step).digest.clone()).digest());
      } catch (CloneNotSupportedException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** Nanos of each chunk's arrival, and of the finished report (or -1). */
  List<Long> chunkArrivals(int step) {
    synchronized (lock) {
      return List.copyOf(steps.get(step).chunkNanos);
    }
  }

  long finishedArrival(int step) {
    synchronized (lock) {
      Step s = steps.get(step);
      return s.finished == null ? -1 : s.finishedNanos;
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      byte[] body = ex.getRequestBody().readAllBytes();
      String path = ex.getRequestURI().getPath();
      Matcher m = STEP_PATH.matcher(path.startsWith(jobPath) ? path.substring(jobPath.length()) : "");
      String sha = HexFormat.of().formatHex(sha256().digest(body));
      Answer answer;
      Fault fault = null;
      synchronized (lock) {
        if ("GET".equals(ex.getRequestMethod()) && path.equals(jobPath + "/" + ReportPaths.SECRETS)) {
          secretFetches++;
          if (!("Bearer " + token).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            answer = violation(401, "missing or wrong bearer token on " + path);
          } else if (refusing) {
            answer = new Answer(401, error("unauthorized", "job is terminal"), "refused");
          } else if (secret503s > 0) {
            secret503s--;
            answer = new Answer(503, error("unavailable", "injected"), "failed");
          } else {
            answer = new Answer(200, Json.mapper().writeValueAsBytes(dev.nixek.ci.protocol.JobSecrets.of(secrets)),
                "secrets");
          }
          arrivals.add(new Arrival(System.nanoTime(), -1, ReportPaths.SECRETS, -1, sha, answer.status,
              answer.result));
        } else if ("POST".equals(ex.getRequestMethod()) && path.equals(jobPath + "/" + ReportPaths.AGENT_ENDED)
            && ("Bearer " + token).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
          ended.add(Json.mapper().readValue(body, AgentEnded.class));
          answer = applied();
          arrivals.add(new Arrival(System.nanoTime(), -1, ReportPaths.AGENT_ENDED, -1, sha, answer.status,
              answer.result));
        } else if (!"POST".equals(ex.getRequestMethod()) || !m.matches()) {
          answer = violation(404, "not a report path: " + ex.getRequestMethod() + " " + path);
          arrivals.add(new Arrival(System.nanoTime(), -1, path, -1, sha, answer.status, answer.result));
        } else {
          int index = Integer.parseInt(m.group(1));
          String kind = m.group(2);
          long seq = -1;
          if (ReportPaths.OUTPUT.equals(kind)) {
            try {
              seq = Json.mapper().readTree(body).path("seq").asLong(-1);
            } catch (IOException e) {
              seq = -1;
            }
          }
          Arrival probe = new Arrival(System.nanoTime(), index, kind, seq, sha, 0, null);
          if (!("Bearer " + token).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            answer = violation(401, "missing or wrong bearer token on " + path);
          } else if (refusing) {
            answer = new Answer(401, error("unauthorized", "job is terminal"), "refused");
          } else if (unknownFor > 0) {
            unknownFor--;
            answer = new Answer(401, error("unauthorized", "unknown or revoked token"), "unknown");
          } else if (!"application/json".equals(ex.getRequestHeaders().getFirst("Content-Type"))) {
            answer = violation(415, "content type " + ex.getRequestHeaders().getFirst("Content-Type"));
          } else {
            fault = takeFault(probe);
            if (fault == Fault.FAIL_503) {
              answer = new Answer(503, error("unavailable", "injected"), "failed");
            } else if (fault == Fault.CONFLICT_409) {
              answer = skipChunk(index, body);
            } else if (fault == Fault.REFUSE_409) {
              answer = new Answer(409, error("conflict", "step 'last' already finished: Failed with exit code 1"),
                  "conflict");
            } else {
              answer = apply(index, kind, body, sha);
            }
          }
          arrivals.add(new Arrival(probe.nanos(), index, kind, seq, sha,
              fault == Fault.APPLY_THEN_503 ? 503 : answer.status, answer.result));
        }
      }
      if (fault == Fault.APPLY_THEN_DROP) {
        throw new IOException("injected: connection dropped after applying");
      }
      if (fault == Fault.APPLY_THEN_503) {
        answer = new Answer(503, error("unavailable", "injected after applying"), "failed");
      }
      byte[] out = answer.body;
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(answer.status, out.length);
      try (OutputStream os = ex.getResponseBody()) {
        os.write(out);
      }
    }
  }

  private record Answer(int status, byte[] body, String result) {}

  private Fault takeFault(Arrival probe) {
    for (int i = 0; i < faults.size(); i++) {
      if (faults.get(i).getKey().test(probe)) {
        return faults.remove(i).getValue();
      }
    }
    return null;
  }

  private Answer apply(int index, String kind, byte[] body, String sha) {
    try {
      switch (kind) {
        case ReportPaths.STARTED -> {
          StepStarted started = Json.mapper().readValue(body, StepStarted.class);
          if (index < steps.size()) {
            return sha.equals(steps.get(index).startedSha) ? duplicate()
                : violation(409, "step " + index + " started again with a different body");
          }
          if (index != steps.size() || (index > 0 && steps.get(index - 1).finished == null)) {
            return violation(409, "step " + index + " started out of order (" + steps.size() + " known)");
          }
          java.time.Instant.parse(started.startTime());
          Step s = new Step();
          s.started = started;
          s.startedSha = sha;
          steps.add(s);
          return applied();
        }
        case ReportPaths.OUTPUT -> {
          OutputChunk chunk = Json.mapper().readValue(body, OutputChunk.class);
          if (index >= steps.size()) {
            return violation(409, "output for step " + index + " before it started");
          }
          Step s = steps.get(index);
          if (chunk.seq() < s.nextSeq) {
            return sha.equals(s.chunkSha.get(chunk.seq())) ? duplicate()
                : violation(409, "step " + index + " chunk " + chunk.seq() + " replayed with a different body");
          }
          if (s.finished != null) {
            return violation(409, "output for step " + index + " after it finished");
          }
          if (chunk.seq() != s.nextSeq || chunk.offset() != s.nextOffset) {
            return violation(409, "step " + index + " chunk seq/offset " + chunk.seq() + "/" + chunk.offset()
                + ", expected " + s.nextSeq + "/" + s.nextOffset);
          }
          byte[] data = Base64.getDecoder().decode(chunk.data());
          if (data.length == 0 || data.length > OutputChunk.MAX_BYTES) {
            return violation(422, "chunk of " + data.length + " bytes");
          }
          s.digest.update(data);
          if (s.head.size() < KEEP_OUTPUT_BYTES) {
            s.head.write(data, 0, Math.min(data.length, KEEP_OUTPUT_BYTES - s.head.size()));
          }
          s.chunkSha.put(chunk.seq(), sha);
          s.chunkNanos.add(System.nanoTime());
          s.nextSeq++;
          s.nextOffset += data.length;
          s.appliedBytes += data.length;
          return applied();
        }
        default -> {
          StepFinished finished = Json.mapper().readValue(body, StepFinished.class);
          if (index >= steps.size()) {
            return violation(409, "finished for step " + index + " before it started");
          }
          Step s = steps.get(index);
          if (s.finished != null) {
            return sha.equals(s.finishedSha) ? duplicate()
                : violation(409, "step " + index + " finished again with a different body");
          }
          if (finished.outputBytes() != s.nextOffset) {
            return violation(409, "step " + index + " finished with outputBytes " + finished.outputBytes()
                + " but chunks covered " + s.nextOffset);
          }
          java.time.Instant.parse(finished.finishTime());
          s.finished = finished;
          s.finishedSha = sha;
          s.finishedNanos = System.nanoTime();
          return applied();
        }
      }
    } catch (IOException | RuntimeException e) {
      return violation(400, "malformed " + kind + " report: " + e);
    }
  }

  private Answer skipChunk(int index, byte[] body) {
    try {
      OutputChunk chunk = Json.mapper().readValue(body, OutputChunk.class);
      Step s = steps.get(index);
      s.nextSeq = chunk.seq() + 1;
      s.nextOffset = chunk.offset() + Base64.getDecoder().decode(chunk.data()).length;
      return new Answer(409, error("conflict", "injected conflict"), "conflict");
    } catch (IOException | RuntimeException e) {
      return violation(400, "malformed chunk: " + e);
    }
  }

  private Answer violation(int status, String what) {
    violations.add(what);
    return new Answer(status, error(status == 409 ? "conflict" : "invalid", what), "violation");
  }

  private static Answer applied() {
    return new Answer(200, json(ReportAck.APPLIED), "applied");
  }

  private static Answer duplicate() {
    return new Answer(200, json(ReportAck.DUPLICATE), "duplicate");
  }

  private static byte[] error(String error, String message) {
    return json(new ReportError(error, message));
  }

  private static byte[] json(Object value) {
    try {
      return Json.mapper().writeValueAsBytes(value);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
