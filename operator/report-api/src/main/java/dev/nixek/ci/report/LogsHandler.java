package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.common.logs.StoredLog;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.protocol.LogPaths;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/logs/:namespace/:name/steps/:index}: a step's stored log, to a Kubernetes user whose RBAC allows
 * {@code get} on {@code nixekjobs/log} of the job ({@link LogReaders}); docs/logs.md#reading-logs.
 *
 * <pre>
 * ?offset=N     start at byte N (default 0; past the end: nothing)
 * ?limit=N      at most N bytes (default: all)
 * ?follow=true  the stored bytes, then new ones as they are stored, until the step ends (chunked)
 * </pre>
 *
 * <p>Byte ranges are these query parameters, not a {@code Range} header: a follower reconnecting after a broken
 * connection asks for {@code ?follow=true&offset=<bytes it has>}, which a Range header cannot say together with
 * following. The answer is {@code application/octet-stream}, the step's bytes as the step printed them, with
 * {@value LogPaths#STORED_BYTES_HEADER} (bytes stored when the answer began) and {@value LogPaths#COMPLETE_HEADER}.
 *
 * <p>401 without a bearer token or with one the API server does not accept; 403 when RBAC says no (before anything
 * about the job is read, so a 404 tells only users who may read it that it is absent); 404 for no such job or step;
 * 429 when {@link #MAX_OPEN} answers are open, or the client failed authentication too often (as for reports).
 * A follower ends when the step's state is final, the job ended, the store sealed the log, or the job was deleted;
 * a new chunk stored by this process wakes it ({@link LogWakeups}), one stored by another replica is seen at its
 * next poll of the store ({@link #POLL_MILLIS}).
 *
 * <p>Every answer runs on a thread of its own (the store and the Kubernetes API block), bounded by {@link #MAX_OPEN}.
 */
final class LogsHandler {
  private static final Logger LOG = LoggerFactory.getLogger(LogsHandler.class);
  static final String PATH = "/v1/logs/:namespace/:name/steps/:index";
  /** Open answers (followers and reads) at most: each holds a thread and polls the store. */
  static final int MAX_OPEN = 64;
  /** Bytes read from the store and written at once. */
  static final int BLOCK = 64 * 1024;
  /** How often a follower looks at the store when nothing woke it: the latency of a chunk stored elsewhere. */
  static final long POLL_MILLIS = 200;
  /** How often a follower reads the job to see whether the step ended. */
  static final long JOB_CHECK_MILLIS = 1000;
  /** A reader that takes no byte for this long is dropped (it holds a thread). */
  static final long WRITE_TIMEOUT_SECONDS = 60;

  private final KubernetesClient client;
  private final LogStore store;
  private final LogReaders readers;
  private final LogWakeups wakeups;
  private final AuthFailures failures;
  /** Clients over their failure budget until the nano time held: refused before a TokenReview is made for them. */
  private final TtlCache<String, Long> blocked = new TtlCache<>(java.time.Duration.ofMinutes(1), 4096,
      System::nanoTime);
  private final Semaphore open = new Semaphore(MAX_OPEN);
  private final AtomicInteger threadIds = new AtomicInteger();
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "nixek-logs-" + threadIds.incrementAndGet());
    t.setDaemon(true);
    return t;
  });

  /** {@code store} null: no log store is configured, and the route says so. */
  LogsHandler(KubernetesClient client, LogStore store, LogWakeups wakeups, int authFailuresPerMinute) {
    this.client = client;
    this.failures = new AuthFailures(authFailuresPerMinute, System::nanoTime);
    this.store = store;
    this.wakeups = wakeups;
    this.readers = new LogReaders(client, System::nanoTime);
  }

  /** Adds the route; without a store (none configured) it answers 503 {@code logs_unavailable}. */
  void routes(Router router) {
    if (store == null) {
      router.get(PATH).handler(ctx -> ReportApi.fail(ctx, new ApiError(503, "logs_unavailable",
          "this report API has no log store")));
      return;
    }
    router.get(PATH).handler(this::read);
  }

  void close() {
    threads.shutdownNow();
  }

  private void read(RoutingContext ctx) {
    Context context = Vertx.currentContext();
    LogRequest request;
    String token;
    String address = ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
    try {
      request = LogRequest.parse(ctx);
      token = LogRequest.bearer(ctx);
      Long until = blocked.get(address).orElse(null);
      if (until != null && until - System.nanoTime() > 0 && !readers.recentlyAuthenticated(token)) {
        throw ApiError.tooMany("too many failed authentications from this client; retry later",
            TimeUnit.NANOSECONDS.toSeconds(until - System.nanoTime()) + 1);
      }
    } catch (ApiError e) {
      ReportApi.fail(ctx, refusal(address, e));
      return;
    }
    if (!open.tryAcquire()) {
      ReportApi.fail(ctx, ApiError.tooMany(MAX_OPEN + " log answers are open; try again shortly", 1));
      return;
    }
    AtomicBoolean gone = new AtomicBoolean();
    ctx.response().closeHandler(v -> gone.set(true));
    try {
      threads.execute(() -> {
        try {
          serve(ctx, request, token, gone);
        } catch (Throwable t) {
          if (!gone.get()) {
            Throwable answer = t instanceof ApiError e ? refusal(address, e) : t;
            context.runOnContext(v -> ReportApi.fail(ctx, answer));
          }
        } finally {
          open.release();
        }
      });
    } catch (RuntimeException e) {
      open.release();
      ReportApi.fail(ctx, e);
    }
  }

  /**
   * A 401 or 403 counts against the client's failure budget (NIXEK_REPORT_AUTH_FAILURES_PER_MINUTE, as for reports);
   * over it the answer is 429, and the client's next requests are refused before any TokenReview (but for a token
   * authenticated within the cache's TTL), so made-up tokens from one address cost the Kubernetes API a bounded
   * number of reviews.
   */
  private ApiError refusal(String address, ApiError e) {
    if (e.status() != 401 && e.status() != 403) {
      return e;
    }
    long retryAfter = failures.fail(address);
    if (retryAfter <= 0) {
      return e;
    }
    blocked.put(address, System.nanoTime() + TimeUnit.SECONDS.toNanos(retryAfter));
    return ApiError.tooMany("too many failed authentications from this client; retry later", retryAfter);
  }

  private void serve(RoutingContext ctx, LogRequest r, String token, AtomicBoolean gone) throws Exception {
    LogReaders.Authentication who = readers.authenticate(token);
    if (!who.authenticated()) {
      throw ApiError.unauthorized("the Kubernetes API server did not accept the bearer token ("
          + who.error() + ")");
    }
    if (!readers.mayRead(who.user(), token, r.namespace(), r.name())) {
      throw ApiError.forbidden("user \"" + who.user().name() + "\" may not get nixekjobs/log (group "
          + LogReaders.GROUP + ") of " + r.namespace() + "/" + r.name() + ": RBAC decides");
    }
    NixekJob job = client.resources(NixekJob.class).inNamespace(r.namespace()).withName(r.name()).get();
    if (job == null) {
      throw new ApiError(404, "not_found", "no NixekJob " + r.namespace() + "/" + r.name());
    }
    String uid = job.getMetadata().getUid();
    List<NixekJobStep> steps = EffectiveSteps.of(job);
    if (steps != null && r.index() >= steps.size()) {
      throw new ApiError(404, "not_found", "job " + r.namespace() + "/" + r.name() + " has " + steps.size()
          + " step" + (steps.size() == 1 ? "" : "s") + "; there is no step " + r.index());
    }
    if (steps == null && !r.follow()) {
      throw new ApiError(404, "not_found", "job " + r.namespace() + "/" + r.name()
          + " has no steps yet (its Nix expression is not evaluated); follow it to wait for them");
    }
    StepLog log = new StepLog(r.namespace(), r.name(), uid, r.index());
    StoredLog state = store.state(log);
    boolean ended = stepEnded(job, r.index()) || state.sealed();
    HttpServerResponse response = ctx.response();
    response.setStatusCode(200)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .putHeader(LogPaths.STORED_BYTES_HEADER, Long.toString(state.bytes()))
        .putHeader(LogPaths.COMPLETE_HEADER, Boolean.toString(ended));
    long end = r.limit() < 0 ? Long.MAX_VALUE : saturatedAdd(r.offset(), r.limit());
    LOG.debug("log of {} step {} to user {} (offset {}, follow {})", r.namespace() + "/" + r.name(), r.index(),
        who.user().name(), r.offset(), r.follow());
    if (!r.follow()) {
      long to = Math.min(state.bytes(), end);
      long from = Math.min(r.offset(), to);
      response.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(to - from));
      copy(response, log, from, to, gone);
      await(response.end());
      return;
    }
    response.setChunked(true);
    // the headers now, so that the client knows it is following before the first byte is printed
    await(response.write(Buffer.buffer()));
    try {
      follow(response, job, log, r, end, ended, gone);
    } finally {
      wakeups.release(log);
    }
    if (!gone.get()) {
      await(response.end());
    }
  }

  private void follow(HttpServerResponse response, NixekJob job, StepLog log, LogRequest r, long end, boolean ended,
      AtomicBoolean gone) throws Exception {
    long pos = r.offset();
    long nextJobCheck = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOB_CHECK_MILLIS);
    while (!gone.get() && pos < end) {
      StoredLog state = store.state(log);
      if (state.bytes() > pos) {
        pos = copy(response, log, pos, Math.min(state.bytes(), end), gone);
        continue;
      }
      if (ended || state.sealed()) {
        // the step ended before this read of the store: every byte it will ever have was in it
        return;
      }
      if (System.nanoTime() - nextJobCheck >= 0) {
        NixekJob now = client.resources(NixekJob.class).inNamespace(r.namespace()).withName(r.name()).get();
        boolean replaced = now == null || !log.jobUid().equals(now.getMetadata().getUid());
        if (replaced) {
          return;
        }
        List<NixekJobStep> steps = EffectiveSteps.of(now);
        if (steps != null && r.index() >= steps.size()) {
          // a Nix job evaluated to fewer steps than the one followed: nothing will come
          return;
        }
        // seen ended here, the loop reads the store once more before it returns
        ended = stepEnded(now, r.index());
        nextJobCheck = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOB_CHECK_MILLIS);
        if (ended) {
          continue;
        }
      }
      wakeups.await(log, POLL_MILLIS);
    }
  }

  /** Copies bytes {@code [from, to)} of the log to the response; returns where it stopped. */
  private long copy(HttpServerResponse response, StepLog log, long from, long to, AtomicBoolean gone)
      throws IOException, Exception {
    long pos = from;
    while (pos < to && !gone.get()) {
      ByteArrayOutputStream block = new ByteArrayOutputStream((int) Math.min(BLOCK, to - pos));
      long n = store.read(log, pos, Math.min(BLOCK, to - pos), block);
      if (n <= 0) {
        throw new IOException("the log store returned no byte at " + pos + " of " + log + " though it holds " + to);
      }
      await(response.write(Buffer.buffer(block.toByteArray())));
      pos += n;
    }
    return pos;
  }

  private static void await(io.vertx.core.Future<Void> f) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new IOException("the reader took no byte for " + WRITE_TIMEOUT_SECONDS + " s", e);
    }
  }

  /** Whether no byte will be added to step {@code index}'s log: its state is final, or the job ended or is gone. */
  static boolean stepEnded(NixekJob job, int index) {
    if (job == null) {
      return true;
    }
    if (job.getStatus() == null) {
      return false;
    }
    if (Conditions.isTerminal(job.getStatus())) {
      return true;
    }
    List<NixekStepStatus> steps = job.getStatus().steps;
    if (steps == null || index >= steps.size() || steps.get(index) == null || steps.get(index).state == null) {
      return false;
    }
    NixekStepStatus.State s = steps.get(index).state;
    return s == NixekStepStatus.State.Succeeded || s == NixekStepStatus.State.Failed
        || s == NixekStepStatus.State.Skipped;
  }

  private static long saturatedAdd(long a, long b) {
    long s = a + b;
    return s < 0 ? Long.MAX_VALUE : s;
  }
}
