package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekArtifactStatus;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.logs.ArtifactOptions;
import dev.nixek.ci.common.logs.ArtifactRef;
import dev.nixek.ci.common.logs.ArtifactStore;
import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.logs.LocalArtifactStore;
import dev.nixek.ci.common.status.StepsWriter;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.protocol.ArtifactFile;
import dev.nixek.ci.protocol.ArtifactListing;
import dev.nixek.ci.protocol.ArtifactRefusal;
import dev.nixek.ci.protocol.ReportPaths;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The artifact routes (docs/artifacts.md):
 *
 * <pre>
 * POST /v1/jobs/:ns/:name/steps/:index/artifacts/upload     ArtifactFile -> ArtifactUpload   (job token)
 * POST /v1/jobs/:ns/:name/steps/:index/artifacts/complete   ArtifactFile -> ReportAck        (job token)
 * POST /v1/jobs/:ns/:name/steps/:index/artifacts/refused    ArtifactRefusal -> ReportAck     (job token)
 * PUT  /v1/artifact-uploads/:token                          the file's bytes (local store only; the signed URL)
 * GET  /v1/artifacts/:ns/:name                              ArtifactListing  (Kubernetes user token)
 * GET  /v1/artifacts/:ns/:name/steps/:index?artifact=A&amp;path=P   the file's bytes (Kubernetes user token)
 * </pre>
 *
 * <p>None of them has the request timeout (an upload or download of a large file, a read-back of one, last longer).
 * A user must be allowed {@code get} on {@code nixekjobs/artifacts} of the job (TokenReview and SubjectAccessReview,
 * as for logs: {@link LogReaders}); 401 without an accepted token, 403 without the right, both before anything
 * about the job is read.
 */
final class ArtifactsHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ArtifactsHandler.class);
  static final String SUBRESOURCE = "artifacts";
  static final int MAX_OPEN = 16;
  private static final int BLOCK = 256 * 1024;
  private static final int JSON_LIMIT = 8192;

  private final KubernetesClient client;
  private final ArtifactStore store;
  private final ArtifactUploads uploads;
  private final TokenResolver tokens;
  private final LogReaders readers;
  private final Semaphore open = new Semaphore(MAX_OPEN);
  private final AtomicInteger threadIds = new AtomicInteger();
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "nixek-artifacts-" + threadIds.incrementAndGet());
    t.setDaemon(true);
    return t;
  });

  /** {@code store} null: no artifact store, every route says so (503). */
  ArtifactsHandler(KubernetesClient client, ArtifactStore store, ArtifactOptions options, TokenResolver tokens) {
    this.client = client;
    this.store = store;
    this.tokens = tokens;
    this.uploads = store == null ? null : new ArtifactUploads(client, store, options, new StepsWriter(client));
    this.readers = new LogReaders(client, System::nanoTime);
  }

  void routes(Router router) {
    String step = "/v1/jobs/:namespace/:name/steps/:index/";
    String[] agentPaths = {ReportPaths.ARTIFACT_UPLOAD, ReportPaths.ARTIFACT_COMPLETE, ReportPaths.ARTIFACT_REFUSED};
    if (store == null) {
      ApiError none = new ApiError(503, "artifacts_unavailable", "this report API has no artifact store");
      for (String p : agentPaths) {
        router.post(step + p).handler(ctx -> ReportApi.fail(ctx, none));
      }
      router.get("/v1/artifacts/*").handler(ctx -> ReportApi.fail(ctx, none));
      return;
    }
    for (String p : agentPaths) {
      router.post(step + p).handler(tokens.handler(JobTokens.Purpose.STEPS));
      router.post(step + p).handler(BodyHandler.create(false).setBodyLimit(JSON_LIMIT));
    }
    router.post(step + ReportPaths.ARTIFACT_UPLOAD).handler(ctx -> agent(ctx, (r, i) ->
        uploads.upload(r, i, ReportHandler.parse(ctx.body().buffer(), ArtifactFile.class)), true));
    router.post(step + ReportPaths.ARTIFACT_COMPLETE).handler(ctx -> agent(ctx, (r, i) ->
        uploads.complete(r, i, ReportHandler.parse(ctx.body().buffer(), ArtifactFile.class)), false));
    router.post(step + ReportPaths.ARTIFACT_REFUSED).handler(ctx -> agent(ctx, (r, i) ->
        uploads.refused(r, i, ReportHandler.parse(ctx.body().buffer(), ArtifactRefusal.class)), false));
    router.put(LocalArtifactStore.UPLOAD_PATH + ":token").handler(this::receive);
    router.get(ArtifactListing.jobPath(":namespace", ":name")).handler(ctx -> user(ctx, this::list));
    router.get(ArtifactListing.filePath(":namespace", ":name", 0).replace("/0", "/:index"))
        .handler(ctx -> user(ctx, this::download));
  }

  void close() {
    threads.shutdownNow();
  }

  private interface AgentCall {
    Object call(TokenRecord record, int index) throws Exception;
  }

  private void agent(RoutingContext ctx, AgentCall call, boolean json) {
    TokenRecord record = TokenResolver.record(ctx);
    int index;
    try {
      index = Integer.parseInt(ctx.pathParam("index"));
    } catch (NumberFormatException e) {
      ReportApi.fail(ctx, ApiError.badRequest("the step index must be a number"));
      return;
    }
    ctx.vertx().executeBlocking(() -> call.call(record, index), false).onComplete(ar -> {
      if (ar.failed()) {
        ReportApi.fail(ctx, ar.cause());
      } else if (ar.result() instanceof dev.nixek.ci.common.status.ReportOutcome o) {
        ReportHandler.respond(ctx, o);
      } else {
        ReportApi.sendJson(ctx, 200, ar.result());
      }
    });
  }

  /** The local store's upload: the signed token says which file, its size and SHA-256, and until when. */
  private void receive(RoutingContext ctx) {
    if (!(store instanceof LocalArtifactStore local)) {
      ReportApi.fail(ctx, new ApiError(404, "not_found", "uploads go to the artifact store's own URLs"));
      return;
    }
    ctx.request().pause();
    String token = ctx.pathParam("token");
    Vertx vertx = ctx.vertx();
    vertx.executeBlocking(() -> local.begin(token), false).onComplete(ar -> {
      if (ar.failed()) {
        Throwable t = ar.cause() instanceof IllegalArgumentException e
            ? new ApiError(403, "forbidden", e.getMessage()) : ar.cause();
        closeAfter(ctx);
        ReportApi.fail(ctx, t);
        return;
      }
      LocalArtifactStore.Upload u = ar.result();
      String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
      if (length == null || !length.equals(Long.toString(u.size()))) {
        local.abandon(u);
        closeAfter(ctx);
        ReportApi.fail(ctx, new ApiError(length == null ? 411 : 413, "length_mismatch", "the upload must carry "
            + "Content-Length: " + u.size() + " (the size the URL was made for)"));
        return;
      }
      vertx.fileSystem().open(u.file().toString(), new OpenOptions().setCreateNew(true).setWrite(true))
          .compose(file -> ctx.request().pipeTo(file))
          .compose(v -> vertx.executeBlocking(() -> {
            local.finish(u);
            return null;
          }, false))
          .onSuccess(v -> ReportApi.sendJson(ctx, 200, dev.nixek.ci.protocol.ReportAck.APPLIED))
          .onFailure(t -> {
            local.abandon(u);
            Throwable answer = t instanceof ArtifactStore.MismatchException m
                ? new ApiError(422, "artifact_mismatch", m.getMessage()) : t;
            ReportApi.fail(ctx, answer);
          });
    });
  }

  private static void closeAfter(RoutingContext ctx) {
    ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    ctx.addEndHandler(v -> ctx.request().connection().close());
  }

  private interface UserCall {
    /** A JSON answer for the caller's context to send, or null when it answered itself (a download). */
    Object serve(RoutingContext ctx, String namespace, String name, NixekJob job) throws Exception;
  }

  private void user(RoutingContext ctx, UserCall call) {
    String namespace = ctx.pathParam("namespace");
    String name = ctx.pathParam("name");
    String token;
    try {
      token = LogRequest.bearer(ctx);
    } catch (ApiError e) {
      ReportApi.fail(ctx, e);
      return;
    }
    if (!open.tryAcquire()) {
      ReportApi.fail(ctx, ApiError.tooMany(MAX_OPEN + " artifact answers are open; try again shortly", 1));
      return;
    }
    Context context = Vertx.currentContext();
    threads.execute(() -> {
      try {
        LogReaders.Authentication who = readers.authenticate(token);
        if (!who.authenticated()) {
          throw ApiError.unauthorized("the Kubernetes API server did not accept the bearer token (" + who.error()
              + ")");
        }
        if (!readers.mayGet(who.user(), token, namespace, name, SUBRESOURCE)) {
          throw ApiError.forbidden("user \"" + who.user().name() + "\" may not get nixekjobs/" + SUBRESOURCE
              + " (group " + LogReaders.GROUP + ") of " + namespace + "/" + name + ": RBAC decides");
        }
        NixekJob job = client.resources(NixekJob.class).inNamespace(namespace).withName(name).get();
        if (job == null) {
          throw new ApiError(404, "not_found", "no NixekJob " + namespace + "/" + name);
        }
        Object answer = call.serve(ctx, namespace, name, job);
        if (answer != null) {
          context.runOnContext(v -> ReportApi.sendJson(ctx, 200, answer));
        }
      } catch (Throwable t) {
        context.runOnContext(v -> ReportApi.fail(ctx, t));
      } finally {
        open.release();
      }
    });
  }

  private Object list(RoutingContext ctx, String namespace, String name, NixekJob job) throws Exception {
    Map<String, String> shas = new HashMap<>();
    List<NixekStepStatus> steps = job.getStatus() == null || job.getStatus().steps == null ? List.of()
        : job.getStatus().steps;
    for (int i = 0; i < steps.size(); i++) {
      if (steps.get(i) != null && steps.get(i).artifacts != null) {
        for (NixekArtifactStatus a : steps.get(i).artifacts) {
          if (a.sha256 != null) {
            shas.put(i + "/" + a.name + "/" + a.path, a.sha256);
          }
        }
      }
    }
    List<ArtifactListing.Entry> files = new ArrayList<>();
    for (ArtifactStore.StoredArtifact a : store.list(jobOf(job))) {
      ArtifactRef r = a.ref();
      files.add(new ArtifactListing.Entry(r.step(), r.name(), r.path(), a.size(),
          a.sha256() != null ? a.sha256() : shas.get(r.step() + "/" + r.name() + "/" + r.path())));
    }
    return new ArtifactListing(files);
  }

  private Object download(RoutingContext ctx, String namespace, String name, NixekJob job) throws Exception {
    int index;
    ArtifactRef ref;
    try {
      index = Integer.parseInt(ctx.pathParam("index"));
      ref = new ArtifactRef(jobOf(job), index, ctx.queryParams().get("artifact"), ctx.queryParams().get("path"));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw ApiError.badRequest("a download names a step index and the artifact and path query parameters: "
          + e.getMessage());
    }
    var found = store.open(ref);
    if (found.isEmpty()) {
      throw new ApiError(404, "not_found", "no stored artifact file " + ref.name() + "/" + ref.path() + " of step "
          + index);
    }
    try (ArtifactStore.Download d = found.get(); InputStream in = d.in()) {
      HttpServerResponse response = ctx.response();
      response.setStatusCode(200)
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream")
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
          .putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(d.size()));
      if (d.sha256() != null) {
        response.putHeader(ArtifactListing.SHA256_HEADER, d.sha256());
      }
      byte[] buf = new byte[BLOCK];
      long sent = 0;
      for (int n; (n = in.readNBytes(buf, 0, BLOCK)) > 0; ) {
        await(response.write(Buffer.buffer(java.util.Arrays.copyOf(buf, n))));
        sent += n;
      }
      if (sent != d.size()) {
        LOG.warn("artifact {} of {}/{}: sent {} of {} bytes", ref.path(), namespace, name, sent, d.size());
        ctx.request().connection().close();
        return null;
      }
      await(response.end());
    }
    return null;
  }

  private static JobLogs jobOf(NixekJob job) {
    return new JobLogs(job.getMetadata().getNamespace(), job.getMetadata().getName(), job.getMetadata().getUid());
  }

  private static void await(Future<Void> f) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new java.io.IOException("the reader took no byte for 60 s", e);
    }
  }
}
