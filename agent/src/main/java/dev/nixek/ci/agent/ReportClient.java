package dev.nixek.ci.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportAck;
import dev.nixek.ci.protocol.ReportError;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one report and classifies the answer. It never retries by itself (the {@link Reporter} owns the policy) and
 * never puts the token anywhere but the Authorization header: not in logs, messages or {@link #toString()}.
 */
final class ReportClient {
  private static final Logger LOG = LoggerFactory.getLogger(ReportClient.class);
  private static final int MAX_ANSWER_BYTES = 8192;

  /** What the agent does about an answer. */
  enum Verdict {
    /** 2xx: applied, or a replay acknowledged as duplicate. */
    DELIVERED,
    /** 5xx, 408, 429 or no answer at all: send the same bytes again later (not before a Retry-After). */
    RETRY,
    /** 401/403: the job is cancelled, terminal or deleted; nothing more will be accepted. */
    JOB_REFUSED,
    /** Any other answer (409 conflict, 400/404/413/415/422): a bug on one side; retrying cannot help. */
    REJECTED
  }

  /** Longest Retry-After honoured: a wrong or hostile value must not park a report for hours. */
  static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(5);

  /**
   * One answer; {@code retryAfter} is the server's Retry-After (delta-seconds, capped at {@link #MAX_RETRY_AFTER}),
   * or null.
   */
  record Result(Verdict verdict, int status, String detail, Duration retryAfter) {
    Result(Verdict verdict, int status, String detail) {
      this(verdict, status, detail, null);
    }

    /** The wait before sending again: the backoff's next delay, but never less than the server asked for. */
    Duration delayAfter(Backoff backoff) {
      Duration next = backoff.next();
      return retryAfter != null && retryAfter.compareTo(next) > 0 ? retryAfter : next;
    }
  }

  private final String baseUrl;
  private final String authorization;
  private final Duration requestTimeout;

  ReportClient(String reportUrl, String token, Duration requestTimeout) {
    this.baseUrl = reportUrl.replaceAll("/+$", "");
    this.authorization = "Bearer " + token;
    this.requestTimeout = requestTimeout;
  }

  Result post(String path, byte[] body) throws InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + path))
        .timeout(requestTimeout)
        .header("Content-Type", "application/json")
        .header("Authorization", authorization)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    long started = System.nanoTime();
    int status;
    byte[] answer;
    Duration retryAfter;
    try {
      HttpResponse<InputStream> response = AgentHttp.client().send(request, HttpResponse.BodyHandlers.ofInputStream());
      status = response.statusCode();
      retryAfter = response.headers().firstValue("Retry-After").map(ReportClient::retryAfter).orElse(null);
      try (InputStream in = response.body()) {
        answer = in.readNBytes(MAX_ANSWER_BYTES);
      }
    } catch (IOException e) {
      LOG.debug("POST {} failed after {} ms: {}", path, millisSince(started), e.toString());
      return new Result(Verdict.RETRY, 0, e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    }
    LOG.debug("POST {} -> {} ({} ms)", path, status, millisSince(started));
    if (status >= 200 && status < 300) {
      return new Result(Verdict.DELIVERED, status, ackResult(answer));
    }
    Verdict verdict = status == 401 || status == 403 ? Verdict.JOB_REFUSED
        : status >= 500 || status == 408 || status == 429 ? Verdict.RETRY
        : Verdict.REJECTED;
    return new Result(verdict, status, errorText(answer), verdict == Verdict.RETRY ? retryAfter : null);
  }

  /** The largest answer a GET reads (the job's secrets: the operator bounds them far below this). */
  static final int MAX_GET_BYTES = 4 * 1024 * 1024;

  /** A GET's answer: the verdict as for a report, and on success the body. Never logged: it may hold secrets. */
  record Got(Result result, byte[] body) {}

  /** GETs {@code path} with the token; classified as {@link #post}. */
  Got get(String path) throws InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + path))
        .timeout(requestTimeout)
        .header("Accept", "application/json")
        .header("Authorization", authorization)
        .GET()
        .build();
    int status;
    byte[] answer;
    Duration retryAfter;
    try {
      HttpResponse<InputStream> response = AgentHttp.client().send(request, HttpResponse.BodyHandlers.ofInputStream());
      status = response.statusCode();
      retryAfter = response.headers().firstValue("Retry-After").map(ReportClient::retryAfter).orElse(null);
      try (InputStream in = response.body()) {
        answer = in.readNBytes(MAX_GET_BYTES);
      }
    } catch (IOException e) {
      return new Got(new Result(Verdict.RETRY, 0, e.getClass().getSimpleName()), null);
    }
    LOG.debug("GET {} -> {}", path, status);
    if (status >= 200 && status < 300) {
      return new Got(new Result(Verdict.DELIVERED, status, "ok"), answer);
    }
    Verdict verdict = status == 401 || status == 403 ? Verdict.JOB_REFUSED
        : status >= 500 || status == 408 || status == 429 ? Verdict.RETRY
        : Verdict.REJECTED;
    return new Got(new Result(verdict, status, errorText(answer), verdict == Verdict.RETRY ? retryAfter : null), null);
  }

  /** Retry-After as delta-seconds (what the report API sends); an HTTP date or garbage is ignored. */
  static Duration retryAfter(String value) {
    String v = value.strip();
    if (!v.matches("[0-9]{1,9}")) {
      return null;
    }
    Duration d = Duration.ofSeconds(Long.parseLong(v));
    return d.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : d;
  }

  private static String ackResult(byte[] answer) {
    try {
      return Json.mapper().readValue(answer, ReportAck.class).result();
    } catch (IOException e) {
      return "unparsed answer";
    }
  }

  /** The server's {@link ReportError}, or the start of whatever it sent instead. */
  private static String errorText(byte[] answer) {
    try {
      ReportError error = Json.mapper().readValue(answer, ReportError.class);
      return error.error() + ": " + error.message();
    } catch (JsonProcessingException e) {
      String text = new String(answer, StandardCharsets.UTF_8).strip();
      return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    } catch (IOException e) {
      return "";
    }
  }

  private static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
