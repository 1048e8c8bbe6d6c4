package dev.nixek.ci.report;

import dev.nixek.ci.common.cache.CacheReadTokens;
import dev.nixek.ci.common.cache.CacheReadView;
import dev.nixek.ci.common.seal.Sealer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.InputStream;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trust domains' binary caches, read-only, as Nix's {@code http://} substituter asks for them
 * (docs/images.md#binary-cache):
 *
 * <pre>
 * GET|HEAD /v1/cache/:segment/nix-cache-info             what the cache says of itself
 * GET|HEAD /v1/cache/:segment/:hash.narinfo              a store path's narinfo, signed by the operator
 * GET|HEAD /v1/cache/:segment/nar/:filehash.nar.xz       its NAR
 * </pre>
 *
 * <p>The caller's netrc password (HTTP Basic, any user name) must be a read token of that segment
 * ({@link CacheReadTokens}, under a key derived from the seal key): else 401, counted against the client's
 * {@link AuthFailures} budget like a bad job token (429 once it is spent), with the connection closed. A token is
 * checked before the path means anything, so no file's existence is told to a caller without one. Names other than
 * a cache's files never reach S3 ({@link CacheReadView}): 404. No request timeout (a NAR can be large), but at most
 * {@link #MAX_OPEN} answers at once.
 */
final class CacheHandler {
  static final String PREFIX = "/v1/cache/";
  static final int MAX_OPEN = 32;
  private static final int BLOCK = 256 * 1024;
  private static final Logger LOG = LoggerFactory.getLogger(CacheHandler.class);

  private final Optional<CacheReadView> view;
  private final Supplier<Sealer> sealer;
  private final AuthFailures failures;
  private final Clock clock;
  private final Semaphore open = new Semaphore(MAX_OPEN);
  private final AtomicInteger threadIds = new AtomicInteger();
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "nixek-cache-" + threadIds.incrementAndGet());
    t.setDaemon(true);
    return t;
  });

  CacheHandler(Optional<CacheReadView> view, Supplier<Sealer> sealer, AuthFailures failures, Clock clock) {
    this.view = view;
    this.sealer = sealer;
    this.failures = failures;
    this.clock = clock;
  }

  void routes(Router router) {
    router.route(HttpMethod.GET, PREFIX + "*").handler(this::serve);
    router.route(HttpMethod.HEAD, PREFIX + "*").handler(this::serve);
  }

  void close() {
    threads.shutdownNow();
  }

  private void serve(RoutingContext ctx) {
    // the normalised path: dot segments removed; what is left must be <segment>/<a cache file's name> exactly
    String rest = ctx.normalizedPath().substring(PREFIX.length());
    int slash = rest.indexOf('/');
    String segment = slash <= 0 ? "" : rest.substring(0, slash);
    String file = slash <= 0 ? "" : rest.substring(slash + 1);
    Sealer s = sealer.get();
    if (s == null) {
      ReportApi.fail(ctx, new ApiError(503, "starting", "the report API has not read the seal key yet; retry later"));
      return;
    }
    String token = CacheReadTokens.fromBasicAuth(ctx.request().getHeader(HttpHeaders.AUTHORIZATION)).orElse(null);
    if (segment.isEmpty() || !CacheReadTokens.of(s).allows(token, segment, clock.instant())) {
      refuse(ctx, token == null ? "a cache read token (the netrc password) is required"
          : "the token does not read this cache, or it expired");
      return;
    }
    if (view.isEmpty()) {
      if (file.equals("nix-cache-info")) {
        // an empty cache rather than a broken substituter: Nix then just finds nothing here
        ctx.response().setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, "text/x-nix-cache-info")
            .end(dev.nixek.ci.common.cache.CacheLayout.CACHE_INFO);
        return;
      }
      ReportApi.fail(ctx, new ApiError(404, "not_found", "this report API serves no binary cache"));
      return;
    }
    if (!open.tryAcquire()) {
      ReportApi.fail(ctx, ApiError.tooMany(MAX_OPEN + " cache answers are open; try again shortly", 1));
      return;
    }
    boolean head = ctx.request().method() == HttpMethod.HEAD;
    Context context = Vertx.currentContext();
    threads.execute(() -> {
      try {
        Optional<CacheReadView.File> found = view.get().open(segment, file);
        if (found.isEmpty()) {
          context.runOnContext(v -> ReportApi.fail(ctx, new ApiError(404, "not_found", "no such file in the cache")));
          return;
        }
        send(ctx, found.get(), head);
      } catch (Throwable t) {
        context.runOnContext(v -> ReportApi.fail(ctx, t instanceof java.io.IOException
            || t instanceof software.amazon.awssdk.core.exception.SdkException
            ? new ApiError(503, "cache_unavailable", "the cache's store failed; retry later") : t));
      } finally {
        open.release();
      }
    });
  }

  private static void send(RoutingContext ctx, CacheReadView.File file, boolean head) throws Exception {
    try (InputStream in = file.body()) {
      HttpServerResponse response = ctx.response();
      response.setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, file.contentType());
      if (file.length() >= 0) {
        response.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(file.length()));
      } else {
        response.setChunked(true);
      }
      if (head) {
        await(response.end());
        return;
      }
      byte[] buf = new byte[BLOCK];
      long sent = 0;
      for (int n; (n = in.readNBytes(buf, 0, BLOCK)) > 0; ) {
        await(response.write(Buffer.buffer(java.util.Arrays.copyOf(buf, n))));
        sent += n;
      }
      if (file.length() >= 0 && sent != file.length()) {
        LOG.warn("cache file {}: sent {} of {} bytes", ctx.normalizedPath(), sent, file.length());
        ctx.request().connection().close();
        return;
      }
      await(response.end());
    }
  }

  /** 401 (429 once the client's failure budget is spent), with the connection closed. */
  private void refuse(RoutingContext ctx, String message) {
    SocketAddress remote = ctx.request().remoteAddress();
    String client = remote == null || remote.hostAddress() == null ? "unknown" : remote.hostAddress();
    long retryAfter = failures.fail(client);
    ApiError answer = retryAfter > 0
        ? ApiError.tooMany("too many failed authentications from this client; retry later", retryAfter)
        : ApiError.unauthorized(message);
    LOG.debug("{} {} from {}: {}", answer.status(), PREFIX, client, message);
    ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    if (answer.status() == 401) {
      // Nix (curl) answers a Basic challenge with the netrc entry
      ctx.response().putHeader("WWW-Authenticate", "Basic realm=\"nixek-ci cache\"");
    }
    ctx.addEndHandler(v -> ctx.request().connection().close());
    ReportApi.fail(ctx, answer);
  }

  private static void await(Future<Void> f) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new java.io.IOException("the reader took no byte for 60 s", e);
    }
  }
}
