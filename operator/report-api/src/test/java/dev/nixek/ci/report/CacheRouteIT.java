package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.common.cache.CacheLayout;
import dev.nixek.ci.common.cache.CacheReadTokens;
import dev.nixek.ci.common.cache.CacheReadView;
import dev.nixek.ci.common.seal.SealKey;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@code GET /v1/cache/<segment>/...} on the report API (the mock API server, s3proxy): the files of a domain's
 * cache for a read token of that domain; 401 without one, with a wrong, expired or another domain's token, or when a
 * path walks into another domain; 404 for what is not a cache file (the staging bundles included); 429 once the
 * client's authentication-failure budget is spent.
 */
class CacheRouteIT {
  private static final String BUCKET = "caches";
  private static final CacheLayout LAYOUT = new CacheLayout("nixek-cache", "c0ffee");
  private static final String HASH = "0123456789abcdfghijklmnpqrsvwxyz";
  private static final String NAR = "nar/" + "1".repeat(52) + ".nar.xz";
  private static final Sealer SEALER = new Sealer(SealKey.random());
  private static final CacheReadTokens TOKENS = CacheReadTokens.of(SEALER);

  private static S3ProxyServer s3proxy;
  private static S3Client s3;
  private static Harness harness;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    s3proxy = S3ProxyServer.builder().transientStore().start();
    s3proxy.createBucket(BUCKET);
    s3 = s3proxy.s3Client();
    for (String domain : new String[] {"tenant-a", "tenant-b"}) {
      put(LAYOUT.root(domain) + HASH + ".narinfo", "StorePath: /nix/store/" + HASH + "-x\nfrom " + domain + "\n");
      put(LAYOUT.root(domain) + NAR, "the NAR of " + domain);
    }
    put(LAYOUT.stagingKey("tenant-a", "nixek-build-abc"), "an unsigned bundle");
    harness = harness(1000);
  }

  private static Harness harness(int authFailuresPerMinute) throws Exception {
    return new Harness(Map.of("NIXEK_REPORT_AUTH_FAILURES_PER_MINUTE", Integer.toString(authFailuresPerMinute)),
        new MemoryLogStore(), null, SEALER, Optional.of(new CacheReadView(s3, BUCKET, LAYOUT)));
  }

  @AfterAll
  static void stop() throws Exception {
    if (harness != null) {
      harness.close();
    }
    if (s3 != null) {
      s3.close();
    }
    if (s3proxy != null) {
      s3proxy.close();
    }
  }

  private static void put(String key, String body) {
    s3.putObject(r -> r.bucket(BUCKET).key(key), RequestBody.fromString(body, StandardCharsets.UTF_8));
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    return send("GET", path, token);
  }

  private HttpResponse<String> send(String method, String path, String token) throws Exception {
    return send(harness, method, path, token);
  }

  private HttpResponse<String> send(Harness h, String method, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.port + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(20));
    if (token != null) {
      b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(("nixek:" + token)
          .getBytes(StandardCharsets.UTF_8)));
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String token(String segment) {
    return TOKENS.mint(segment, Instant.now().plusSeconds(600));
  }

  @Test
  void aDomainsTokenReadsItsCacheFiles() throws Exception {
    String a = token("tenant-a");
    HttpResponse<String> info = get("/v1/cache/tenant-a/nix-cache-info", a);
    assertThat(info.statusCode()).isEqualTo(200);
    assertThat(info.body()).isEqualTo(CacheLayout.CACHE_INFO);
    HttpResponse<String> narinfo = get("/v1/cache/tenant-a/" + HASH + ".narinfo", a);
    assertThat(narinfo.statusCode()).isEqualTo(200);
    assertThat(narinfo.body()).contains("from tenant-a");
    assertThat(narinfo.headers().firstValue("Content-Type")).contains("text/x-nix-narinfo");
    HttpResponse<String> nar = get("/v1/cache/tenant-a/" + NAR, a);
    assertThat(nar.statusCode()).isEqualTo(200);
    assertThat(nar.body()).isEqualTo("the NAR of tenant-a");
    HttpResponse<String> head = send("HEAD", "/v1/cache/tenant-a/" + HASH + ".narinfo", a);
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    // what the domain's cache does not hold, or is not a cache file, is 404: never another S3 name
    assertThat(get("/v1/cache/tenant-a/" + "2".repeat(32) + ".narinfo", a).statusCode()).isEqualTo(404);
    assertThat(get("/v1/cache/tenant-a/staging/nixek-build-abc.zip", a).statusCode()).isEqualTo(404);
    assertThat(get("/v1/cache/tenant-a/nar/", a).statusCode()).isEqualTo(404);
  }

  @Test
  void anythingButTheDomainsLiveTokenIs401() throws Exception {
    String path = "/v1/cache/tenant-a/" + HASH + ".narinfo";
    HttpResponse<String> none = get(path, null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).contains("Basic realm=\"nixek-ci cache\"");
    assertThat(none.body()).doesNotContain("from tenant-a");
    assertThat(get(path, "nxkc_99999999999_forged").statusCode()).isEqualTo(401);
    assertThat(get(path, TOKENS.mint("tenant-a", Instant.now().minusSeconds(1))).statusCode()).isEqualTo(401);
    assertThat(get(path, token("tenant-b")).statusCode()).isEqualTo(401);
    // a token under another seal key (another installation) reads nothing here
    assertThat(get(path, CacheReadTokens.of(new Sealer(SealKey.random())).mint("tenant-a",
        Instant.now().plusSeconds(600))).statusCode()).isEqualTo(401);
    // the path is normalised before its segment is read: walking into tenant-b needs tenant-b's token
    String a = token("tenant-a");
    assertThat(get("/v1/cache/tenant-a/../tenant-b/" + HASH + ".narinfo", a).statusCode()).isEqualTo(401);
    assertThat(get("/v1/cache/tenant-a/nar/../../tenant-b/" + NAR, a).statusCode()).isEqualTo(401);
    assertThat(get("/v1/cache/tenant-a/%2e%2e/tenant-b/" + HASH + ".narinfo", a).statusCode()).isEqualTo(401);
    // and tenant-b's token reads tenant-b's file, not tenant-a's
    assertThat(get("/v1/cache/tenant-a/../tenant-b/" + HASH + ".narinfo", token("tenant-b")).body())
        .contains("from tenant-b");
  }

  @Test
  void failedAuthenticationsSpendTheClientsBudget() throws Exception {
    // the budget is shared with the job tokens' and webhooks' (12 a minute here): the cache's 401s spend it
    try (Harness small = harness(12)) {
      int refused = 0;
      int limited = 0;
      for (int i = 0; i < 30 && limited == 0; i++) {
        int status = send(small, "GET", "/v1/cache/tenant-a/nix-cache-info", "nxkc_1_guess" + i).statusCode();
        refused += status == 401 ? 1 : 0;
        limited += status == 429 ? 1 : 0;
      }
      assertThat(limited).isEqualTo(1);
      assertThat(refused).isBetween(1, 12);
      // a good token is never limited
      assertThat(send(small, "GET", "/v1/cache/tenant-a/nix-cache-info", token("tenant-a")).statusCode())
          .isEqualTo(200);
    }
  }
}
