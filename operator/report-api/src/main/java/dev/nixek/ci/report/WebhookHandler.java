package dev.nixek.ci.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/webhooks/:namespace/:repository}: a forge's push or pull-request delivery (GitHub, Gitea; the
 * design in docs/repositories.md#webhooks, the threat model in docs/security.md#webhooks).
 *
 * <p>In this order, and nothing else first: the repository must be known and have a webhook secret (404, from the
 * watched cache, before any byte of the body), the headers must be there (415 for another content type, 400 without
 * event or delivery id, 401 without a well-formed signature, 413 for a declared length over the limit); then the body
 * is read up to its limit and its {@code X-Hub-Signature-256} checked over the raw bytes (401); only then is it parsed
 * (400). A 401 counts against the client's {@link AuthFailures} budget like a bad token (429 once spent). A delivery
 * id seen before is answered 200 "duplicate"; a ping 200 "pong"; a delivery about nothing the repository builds
 * 202 "ignored" with the reason; the rest 202 "accepted" once its nudge is queued ({@link WebhookNudges}): the answer
 * never waits for Kubernetes.
 */
final class WebhookHandler {
  static final String PATH = "/v1/webhooks/:namespace/:repository";
  static final String PREFIX = "/v1/webhooks/";
  private static final Logger LOG = LoggerFactory.getLogger(WebhookHandler.class);
  private static final Pattern DELIVERY_ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");
  private static final Pattern EVENT = Pattern.compile("[a-z_]{1,64}");
  private static final String REPO = "nixek.webhookRepository";

  private final WebhookRepositories repositories;
  private final WebhookSecrets secrets;
  private final WebhookNudges nudges;
  private final AuthFailures failures;
  private final TtlCache<String, Boolean> seen;
  private final WebhookConfig config;
  private final Clock clock;

  /** The JSON body of a webhook answer. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Answer(String result, String reason) {}

  WebhookHandler(WebhookRepositories repositories, WebhookSecrets secrets, WebhookNudges nudges,
      AuthFailures failures, WebhookConfig config, Clock clock) {
    this.repositories = repositories;
    this.secrets = secrets;
    this.nudges = nudges;
    this.failures = failures;
    this.config = config;
    this.clock = clock;
    this.seen = new TtlCache<>(config.deliveryTtl(), config.deliveryCacheEntries(), System::nanoTime);
  }

  /** Adds the route: its checks before the body, its own body limit, then the delivery. */
  void routes(Router router) {
    router.post(PATH).handler(this::beforeBody);
    router.post(PATH).handler(BodyHandler.create(false).setBodyLimit(config.bodyLimitBytes()));
    router.post(PATH).handler(this::deliver);
  }

  static ApiError unknownRepository() {
    // the same answer whether the repository is missing or takes no webhooks: nothing to learn by probing
    return new ApiError(404, "not_found", "no such repository, or it takes no webhooks");
  }

  private void beforeBody(RoutingContext ctx) {
    try {
      if (!repositories.synced()) {
        throw new ApiError(503, "starting", "the report API is loading its repositories; retry later");
      }
      String ns = ctx.pathParam("namespace");
      String name = ctx.pathParam("repository");
      Optional<WebhookRepository> repo = repositories.find(ns, name);
      if (repo.isEmpty() || repo.get().sealedSecret() == null) {
        if (repo.isEmpty() && !repositories.watching()) {
          throw new ApiError(503, "starting", "the report API is catching up with its repositories; retry later");
        }
        throw unknownRepository();
      }
      String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
      if (type == null || !type.split(";", 2)[0].strip().equalsIgnoreCase("application/json")) {
        throw new ApiError(415, "unsupported_media_type", "webhook deliveries must be sent as application/json");
      }
      String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
      if (length != null && tooLong(length)) {
        throw new ApiError(413, "body_too_large", "the delivery exceeds " + config.bodyLimitBytes() + " bytes");
      }
      if (event(ctx) == null) {
        throw ApiError.badRequest("no valid X-GitHub-Event (or X-Gitea-Event) header");
      }
      if (deliveryId(ctx) == null) {
        throw ApiError.badRequest("no valid X-GitHub-Delivery (or X-Gitea-Delivery) header");
      }
      if (!WebhookSignature.wellFormed(ctx.request().getHeader(WebhookSignature.HEADER))) {
        throw ApiError.unauthorized("missing or malformed " + WebhookSignature.HEADER);
      }
      ctx.put(REPO, repo.get());
      ctx.next();
    } catch (ApiError e) {
      refuse(ctx, e, true);
    }
  }

  private boolean tooLong(String length) {
    try {
      return Long.parseLong(length.strip()) > config.bodyLimitBytes();
    } catch (NumberFormatException e) {
      throw ApiError.badRequest("Content-Length is not a number");
    }
  }

  private void deliver(RoutingContext ctx) {
    try {
      WebhookRepository repo = ctx.get(REPO);
      byte[] body = ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
      byte[] secret = secrets.open(repo);
      if (!WebhookSignature.verify(secret, body, ctx.request().getHeader(WebhookSignature.HEADER))) {
        throw ApiError.unauthorized(WebhookSignature.HEADER + " does not match the body");
      }
      String event = event(ctx);
      String delivery = deliveryId(ctx);
      WebhookEvent parsed = WebhookEvent.parse(event, body);
      String key = repo.key() + "/" + delivery;
      if (seen.get(key).isPresent()) {
        ReportApi.sendJson(ctx, 200, new Answer("duplicate", "delivery " + delivery + " was received before"));
        return;
      }
      seen.put(key, Boolean.TRUE);
      if (WebhookEvent.PING.equals(event)) {
        ReportApi.sendJson(ctx, 200, new Answer("pong", null));
        return;
      }
      Optional<String> ignored = WebhookFilter.ignored(repo, parsed);
      if (ignored.isPresent()) {
        LOG.debug("webhook {} {} of {} ignored: {}", event, delivery, repo.key(), ignored.get());
        ReportApi.sendJson(ctx, 202, new Answer("ignored", ignored.get()));
        return;
      }
      nudges.offer(new WebhookNudges.Nudge(repo, delivery, event, parsed.ref(),
          clock.instant().truncatedTo(ChronoUnit.MILLIS)));
      LOG.debug("webhook {} {} of {} accepted ({})", event, delivery, repo.key(), parsed.ref());
      ReportApi.sendJson(ctx, 202, new Answer("accepted", null));
    } catch (ApiError e) {
      refuse(ctx, e, false);
    }
  }

  private void refuse(RoutingContext ctx, ApiError e, boolean bodyUnread) {
    ApiError answer = e;
    if (e.status() == 401) {
      long retryAfter = failures.fail(client(ctx));
      if (retryAfter > 0) {
        answer = ApiError.tooMany("too many failed authentications from this client; retry later", retryAfter);
      }
      LOG.debug("webhook refused for {}: {}", ctx.normalizedPath(), e.getMessage());
    }
    if (bodyUnread) {
      // as for a bad token: the body stays unread and the connection ends with the answer
      ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
      ctx.addEndHandler(v -> ctx.request().connection().close());
    }
    ReportApi.fail(ctx, answer);
  }

  private static String event(RoutingContext ctx) {
    return header(ctx, EVENT, "X-GitHub-Event", "X-Gitea-Event", "X-Gogs-Event");
  }

  private static String deliveryId(RoutingContext ctx) {
    return header(ctx, DELIVERY_ID, "X-GitHub-Delivery", "X-Gitea-Delivery", "X-Gogs-Delivery");
  }

  /** The first of {@code names} that is set; null when none is, or the first set one is malformed. */
  private static String header(RoutingContext ctx, Pattern shape, String... names) {
    for (String n : names) {
      String v = ctx.request().getHeader(n);
      if (v != null) {
        return shape.matcher(v).matches() ? v : null;
      }
    }
    return null;
  }

  private static String client(RoutingContext ctx) {
    SocketAddress remote = ctx.request().remoteAddress();
    String host = remote == null ? null : remote.hostAddress();
    return host == null ? "unknown" : host;
  }
}
