package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.job.StepRules;
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
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
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
 * 429 when {@link #MAX_OPEN} answers are open. A follower ends when the step's state is final, the job ended, the
 * store sealed the log, or the job was deleted; a new chunk stored by this process wakes it ({@link LogWakeups}), one
 * stored by another replica is seen at its next poll of the store ({@link #POLL_MILLIS}).
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
  private static final Pattern DNS_NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  private static final String SCHEME = "bearer ";

  private final KubernetesClient client;
  private final LogStore store;
  private final LogReaders readers;
  private final LogWakeups wakeups;
  private final Semaphore open = new Semaphore(MAX_OPEN);
  private final AtomicInteger threadIds = new AtomicInteger();
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "nixek-logs-" + threadIds.incrementAndGet());
    t.setDaemon(true);
    return t;
  });

  /** What was asked for. */
  record Request(String namespace, String name, int index, long offset, long limit, boolean follow) {}

  /** {@code store} null: no log store is configured, and the route says so. */
  LogsHandler(KubernetesClient client, LogStore store, LogWakeups wakeups) {
    this.client = client;
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
    Request request;
    String token;
    try {
      request = parse(ctx);
      token = bearer(ctx);
    } catch (ApiError e) {
      ReportApi.fail(ctx, e);
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
            context.runOnContext(v -> ReportApi.fail(ctx, t));
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

  private void serve(RoutingContext ctx, Request r, String token, AtomicBoolean gone) throws Exception {
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

  private void follow(HttpServerResponse response, NixekJob job, StepLog log, Request r, long end, boolean ended,
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

  static Request parse(RoutingContext ctx) {
    String namespace = ctx.pathParam("namespace");
    String name = ctx.pathParam("name");
    if (namespace == null || namespace.length() > 63 || !DNS_NAME.matcher(namespace).matches()) {
      throw ApiError.badRequest("the namespace in the path is not a Kubernetes namespace name");
    }
    if (name == null || name.length() > 253 || !DNS_NAME.matcher(name).matches()) {
      throw ApiError.badRequest("the job name in the path is not a Kubernetes object name");
    }
    int index = (int) number(ctx.pathParam("index"), "step index", StepRules.MAX_STEPS - 1, 0);
    long offset = number(ctx.queryParams().get(LogPaths.OFFSET), LogPaths.OFFSET, Long.MAX_VALUE, 0);
    long limit = number(ctx.queryParams().get(LogPaths.LIMIT), LogPaths.LIMIT, Long.MAX_VALUE, -1);
    String follow = ctx.queryParams().get(LogPaths.FOLLOW);
    boolean f;
    if (follow == null || follow.equals("false") || follow.equals("0")) {
      f = false;
    } else if (follow.equals("true") || follow.equals("1") || follow.isEmpty()) {
      f = true;
    } else {
      throw ApiError.badRequest("follow must be true or false");
    }
    return new Request(namespace, name, index, offset, limit, f);
  }

  private static long number(String value, String what, long max, long absent) {
    if (value == null) {
      return absent;
    }
    try {
      long n = Long.parseLong(value);
      if (n < 0 || n > max) {
        throw ApiError.badRequest(what + " must be 0.." + max + ", was " + value);
      }
      return n;
    } catch (NumberFormatException e) {
      throw ApiError.badRequest(what + " must be a whole number, was \"" + (value.length() > 32
          ? value.substring(0, 32) + "..." : value) + "\"");
    }
  }

  /** The caller's bearer token, never logged; client certificates cannot be checked by a TokenReview. */
  static String bearer(RoutingContext ctx) {
    List<String> values = ctx.request().headers().getAll(HttpHeaders.AUTHORIZATION);
    if (values.isEmpty()) {
      throw ApiError.unauthorized("missing Authorization: Bearer <Kubernetes token>; logs are read with a "
          + "Kubernetes bearer token (a client certificate cannot be checked here)");
    }
    if (values.size() > 1) {
      throw ApiError.unauthorized("more than one Authorization header");
    }
    String value = values.get(0).trim();
    if (value.length() <= SCHEME.length()
        || !value.substring(0, SCHEME.length()).toLowerCase(Locale.ROOT).equals(SCHEME)) {
      throw ApiError.unauthorized("the Authorization scheme must be Bearer");
    }
    String token = value.substring(SCHEME.length()).trim();
    if (token.isEmpty() || token.length() > 16 * 1024 || token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
      throw ApiError.unauthorized("the bearer token is empty or malformed");
    }
    return token;
  }

  private static long saturatedAdd(long a, long b) {
    long s = a + b;
    return s < 0 ? Long.MAX_VALUE : s;
  }
}
