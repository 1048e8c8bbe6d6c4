package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.common.secrets.SealedJobSecrets;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.protocol.CheckoutCredential;
import dev.nixek.ci.protocol.JobSecrets;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Context;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/jobs/:namespace/:name/secrets} (docs/secrets.md#fetching): the job's secret values, to the job's own
 * agent, while the job runs. The step token was checked against the path before this runs ({@link TokenResolver}: 401
 * unknown, 403 another job's); here the job is read fresh, so that a job that has ended (401), or whose token a new
 * attempt replaced (401), gets nothing even before the watch has seen it. The values are what the operator sealed
 * into the job's status for this uid and attempt, opened with the seal key: the report API reads no Secret but that
 * key, by name ({@link SealKeys}, the report API's one holder). Values never reach a log line; a line says how many
 * were served.
 *
 * <p>The checkout token ({@link CheckoutCredential#SECRET_REF}) is for the checkout step, step 0, only: once that
 * step has ended (its {@code finished} report applied), it is left out, so a later step — which runs code from the
 * repository, possibly as root with the agent's token at hand — cannot fetch the forge credential.
 */
final class SecretsHandler {
  private static final Logger LOG = LoggerFactory.getLogger(SecretsHandler.class);

  private final KubernetesClient client;
  private final SealKeys sealKeys;

  SecretsHandler(KubernetesClient client, SealKeys sealKeys) {
    this.client = client;
    this.sealKeys = sealKeys;
  }

  void secrets(RoutingContext ctx) {
    TokenRecord record = TokenResolver.record(ctx);
    Context caller = ctx.vertx().getOrCreateContext();
    caller.executeBlocking(() -> answer(record), false)
        .onSuccess(values -> {
          LOG.info("served {} secret value(s) to the agent of {} (token {})", values.size(), record.jobKey(),
              record.tokenId());
          ReportApi.sendJson(ctx, 200, JobSecrets.of(values));
        })
        .onFailure(t -> {
          if (t instanceof ApiError e) {
            LOG.info("{} secrets of {} (token {}): {}", e.status(), record.jobKey(), record.tokenId(), e.getMessage());
            if (e.status() == 401) {
              ReportApi.challenge(ctx);
            }
          }
          ReportApi.fail(ctx, t);
        });
  }

  /** The values, or an {@link ApiError}; blocking (one API read, and the key's at first use). */
  Map<String, byte[]> answer(TokenRecord record) {
    NixekJob job = client.resources(NixekJob.class).inNamespace(record.namespace()).withName(record.jobName()).get();
    if (job == null || !record.jobUid().equals(job.getMetadata().getUid())) {
      throw ApiError.unauthorized("unknown or revoked token");
    }
    NixekJobStatus status = job.getStatus();
    if (status == null || !record.sha256Hex().equals(status.stepTokenSha256)) {
      throw ApiError.unauthorized("this token was replaced by a new launch attempt");
    }
    if (Conditions.isTerminal(status)) {
      throw ApiError.unauthorized("the job has ended: its secrets are served only while it runs");
    }
    if (status.sealedSecrets == null) {
      return Map.of();
    }
    if (status.attempt == null) {
      throw new ApiError(503, "unavailable", "the job's launch attempt is not recorded yet; retry later");
    }
    String context = SealedJobSecrets.context(record.namespace(), record.jobName(), record.jobUid(), status.attempt);
    Map<String, byte[]> values;
    try {
      values = SealedJobSecrets.open(sealer(), status.sealedSecrets, context);
    } catch (Sealer.SealException e) {
      // a blob copied from another job or attempt, or sealed under another key: never the blob in the log
      LOG.warn("the sealed secrets of {} do not open ({}); refusing them", record.jobKey(), e.getMessage());
      throw new ApiError(500, "internal", "the job's sealed secrets do not open");
    }
    if (values.containsKey(CheckoutCredential.SECRET_REF) && checkoutEnded(status)) {
      Map<String, byte[]> rest = new LinkedHashMap<>(values);
      rest.remove(CheckoutCredential.SECRET_REF);
      LOG.info("the checkout step of {} has ended: its credential is no longer served", record.jobKey());
      return rest;
    }
    return values;
  }

  /** Step 0 (the checkout step of a job with a source) reported its end, or a later step started. */
  static boolean checkoutEnded(NixekJobStatus status) {
    if (status.steps == null || status.steps.isEmpty()) {
      return false;
    }
    NixekStepStatus.State first = status.steps.get(0).state;
    boolean laterStarted = status.steps.stream().skip(1).anyMatch(s -> s.state != null
        && s.state != NixekStepStatus.State.Pending);
    return laterStarted || (first != null && first != NixekStepStatus.State.Pending
        && first != NixekStepStatus.State.Running);
  }

  private Sealer sealer() {
    Sealer s = sealKeys.getOrRead();
    if (s == null) {
      throw new ApiError(503, "unavailable", "the seal key is not there yet (the operator creates it); retry later");
    }
    return s;
  }
}
