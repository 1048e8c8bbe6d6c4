package dev.nixek.ci.operator.repository;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The forge API calls the repository reconciler makes: the open pull requests, with whether each comes from a fork.
 * GitHub ({@code GET /repos/{o}/{r}/pulls?state=open&per_page=100}) and Gitea/Forgejo ({@code ...&limit=50}) answer
 * with the same fields: {@code number}, {@code head.sha}, {@code head.repo.full_name} (null when the fork is gone),
 * {@code base.repo.full_name}. Bounded: at most {@link #MAX_PULLS} pull requests (the first pages), bodies of at
 * most 8 MiB, 20 s per call.
 */
public final class ForgeClient {
  static final int MAX_PULLS = 200;
  static final int MAX_BODY = 8 * 1024 * 1024;
  static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An open pull request: its number, head commit per the API, and whether its head is in another repository. */
  public record PullRequest(int number, String headSha, boolean fork) {}

  /** The forge did not answer as expected; the message says what it answered (never the token). */
  public static final class Failure extends Exception {
    public Failure(String message) {
      super(message);
    }
  }

  private final HttpClient http;

  public ForgeClient(HttpClient http) {
    this.http = http;
  }

  public ForgeClient() {
    this(HttpClient.newBuilder().connectTimeout(TIMEOUT).followRedirects(HttpClient.Redirect.NEVER).build());
  }

  /** The open pull requests of {@code repo} ({@code owner/name}) at {@code apiUrl}. */
  public List<PullRequest> openPullRequests(String kind, String apiUrl, String repo, String token)
      throws Failure, InterruptedException {
    List<PullRequest> out = new ArrayList<>();
    int perPage = "github".equals(kind) ? 100 : 50;
    for (int page = 1; out.size() < MAX_PULLS; page++) {
      String base = apiUrl.endsWith("/") ? apiUrl.substring(0, apiUrl.length() - 1) : apiUrl;
      URI uri = URI.create(base + "/repos/" + repo + "/pulls?state=open&page=" + page
          + ("github".equals(kind) ? "&per_page=" : "&limit=") + perPage);
      JsonNode body = get(uri, token);
      if (!body.isArray()) {
        throw new Failure("GET " + uri + " did not answer a list of pull requests");
      }
      for (JsonNode pr : body) {
        out.add(parse(pr));
      }
      if (body.size() < perPage) {
        break;
      }
    }
    return out.size() > MAX_PULLS ? out.subList(0, MAX_PULLS) : out;
  }

  static PullRequest parse(JsonNode pr) throws Failure {
    int number = pr.path("number").asInt(0);
    String sha = pr.path("head").path("sha").asText("");
    if (number <= 0) {
      throw new Failure("a pull request without a number");
    }
    JsonNode headRepo = pr.path("head").path("repo");
    String base = pr.path("base").path("repo").path("full_name").asText("");
    boolean fork = headRepo.isMissingNode() || headRepo.isNull()
        || !headRepo.path("full_name").asText("").equalsIgnoreCase(base) || base.isEmpty();
    return new PullRequest(number, sha, fork);
  }

  private JsonNode get(URI uri, String token) throws Failure, InterruptedException {
    HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(TIMEOUT).header("Accept", "application/json")
        .header("User-Agent", "nixek-ci").GET();
    if (token != null) {
      req.header("Authorization", "token " + token);
    }
    HttpResponse<InputStream> response;
    try {
      response = http.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new Failure("GET " + uri + ": " + e);
    }
    try (InputStream in = response.body()) {
      byte[] bytes = in.readNBytes(MAX_BODY + 1);
      if (response.statusCode() != 200) {
        throw new Failure("GET " + uri + " answered " + response.statusCode());
      }
      if (bytes.length > MAX_BODY) {
        throw new Failure("GET " + uri + " answered more than " + MAX_BODY + " bytes");
      }
      return JSON.readTree(bytes);
    } catch (IOException e) {
      throw new Failure("GET " + uri + ": unreadable answer (" + e.getMessage() + ")");
    }
  }
}
