package dev.nixek.ci.operator.forge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryForge;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Posts one commit status, in the forge's own shape, and classifies the answer; it never retries by itself
 * ({@link ForgeStatusPoster} owns the policy). Both forges take the same JSON ({@code state}, {@code target_url},
 * {@code description}, {@code context}) at {@code POST <api>/repos/{owner}/{repo}/statuses/{sha}}; they differ in the
 * Authorization scheme: GitHub {@code Bearer <token>} (with its media type and API version headers), Gitea
 * {@code token <token>}.
 */
public final class ForgeStatusApi {
  /** How an answer is handled. */
  public enum Verdict {
    /** 2xx: the forge has it. */
    POSTED,
    /** No answer, 5xx, 408, 429, or a rate limit's 403: try again later. */
    RETRY,
    /** Any other 4xx (bad token, unknown repository or commit, invalid status): retried a few times, then dropped. */
    REFUSED
  }

  /** One answer: the verdict, the HTTP status (0 when none came) and a short detail for the log. */
  public record Answer(Verdict verdict, int status, String detail) {}

  static final String GITHUB_API_VERSION = "2022-11-28";
  private static final int MAX_DETAIL = 200;

  private final HttpClient http;
  private final Duration timeout;

  public ForgeStatusApi(Duration timeout) {
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /** The URI a status for {@code target} is posted to. */
  static URI uri(ForgeTarget target) {
    String[] ownerName = target.repository().split("/", 2);
    return URI.create(target.apiUrl().replaceAll("/+$", "") + "/repos/" + segment(ownerName[0]) + "/"
        + segment(ownerName[1]) + "/statuses/" + segment(target.commit()));
  }

  /** The JSON body both forges take. */
  static byte[] body(CommitStatus status) {
    ObjectNode o = Serialization.jsonMapper().createObjectNode();
    o.put("state", status.state());
    if (status.targetUrl() != null) {
      o.put("target_url", status.targetUrl());
    }
    o.put("description", status.description());
    o.put("context", status.context());
    return o.toString().getBytes(StandardCharsets.UTF_8);
  }

  public Answer post(ForgeTarget target, CommitStatus status) throws InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(target))
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .header("User-Agent", "nixek-ci")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body(status)));
    if (NixekRepositoryForge.GITHUB.equals(target.kind())) {
      request.header("Authorization", "Bearer " + target.token())
          .header("Accept", "application/vnd.github+json")
          .header("X-GitHub-Api-Version", GITHUB_API_VERSION);
    } else {
      request.header("Authorization", "token " + target.token())
          .header("Accept", "application/json");
    }
    HttpResponse<byte[]> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      return new Answer(Verdict.RETRY, 0, e.getClass().getSimpleName());
    }
    int code = response.statusCode();
    String detail = detail(response.body(), target.token());
    if (code >= 200 && code < 300) {
      return new Answer(Verdict.POSTED, code, "");
    }
    boolean rateLimited = code == 403 && (response.headers().firstValue("Retry-After").isPresent()
        || "0".equals(response.headers().firstValue("X-RateLimit-Remaining").orElse(null)));
    boolean retry = code >= 500 || code == 408 || code == 429 || rateLimited;
    return new Answer(retry ? Verdict.RETRY : Verdict.REFUSED, code, detail);
  }

  private static String segment(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The start of the forge's answer, one line, for the log; a token a forge might echo is cut out. */
  private static String detail(byte[] body, String token) {
    String s = new String(body, StandardCharsets.UTF_8).replaceAll("\\s+", " ").strip();
    if (token != null && !token.isEmpty()) {
      s = s.replace(token, "<redacted>");
    }
    return s.length() > MAX_DETAIL ? s.substring(0, MAX_DETAIL) + "..." : s;
  }
}
