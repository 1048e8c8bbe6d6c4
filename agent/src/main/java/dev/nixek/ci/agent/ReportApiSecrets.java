package dev.nixek.ci.agent;

import dev.nixek.ci.protocol.JobSecrets;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportPaths;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches the job's secrets from the report API ({@code GET /v1/jobs/{ns}/{name}/secrets}) with the job's token:
 * retried like a report on 5xx/408/429 or no answer, until {@link #PATIENCE}; 401/403 mean the job is over. Values
 * under a reserved ref (starting with {@code :}, which no Secret's name has: the checkout step's credential,
 * {@link dev.nixek.ci.protocol.CheckoutCredential#SECRET_REF}) are dropped: they are the checkout step's alone, which
 * fetches its own ({@link Checkout}), and are not kept for the job's steps.
 */
final class ReportApiSecrets implements SecretSource {
  private static final Logger LOG = LoggerFactory.getLogger(ReportApiSecrets.class);
  /** How long the agent keeps trying (the report API restarting, the seal key not made yet). */
  static final Duration PATIENCE = Duration.ofMinutes(2);

  private final ReportClient client;
  private final String path;
  private final Supplier<Backoff> backoff;

  ReportApiSecrets(ReportClient client, String namespace, String name, Supplier<Backoff> backoff) {
    this.client = client;
    this.path = ReportPaths.secrets(namespace, name);
    this.backoff = backoff;
  }

  @Override
  public Map<String, byte[]> fetch() throws InterruptedException {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    Backoff b = backoff.get();
    while (true) {
      ReportClient.Got got = client.get(path);
      ReportClient.Result r = got.result();
      switch (r.verdict()) {
        case DELIVERED -> {
          try {
            Map<String, byte[]> values = new java.util.LinkedHashMap<>(
                Json.mapper().readValue(got.body(), JobSecrets.class).decoded());
            values.keySet().removeIf(ref -> ref.startsWith(":"));
            return values;
          } catch (IOException | IllegalArgumentException e) {
            throw new Unavailable("the report API's answer is not the job's secrets");
          }
        }
        case JOB_REFUSED -> throw new Unavailable("the report API refused to serve the job's secrets (HTTP "
            + r.status() + ": " + r.detail() + ")", true);
        case REJECTED -> throw new Unavailable("the report API rejected the request for the job's secrets (HTTP "
            + r.status() + ": " + r.detail() + ")");
        default -> {
          if (System.nanoTime() > deadline) {
            throw new Unavailable("the report API did not serve the job's secrets within " + PATIENCE.toSeconds()
                + " s (last: " + (r.status() == 0 ? r.detail() : "HTTP " + r.status() + ": " + r.detail()) + ")");
          }
          Duration d = r.delayAfter(b);
          LOG.info("fetching the job's secrets: {}; again in {} ms", r.status() == 0 ? r.detail()
              : "HTTP " + r.status(), d.toMillis());
          Thread.sleep(d.toMillis());
        }
      }
    }
  }
}
