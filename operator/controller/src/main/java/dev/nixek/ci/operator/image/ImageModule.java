package dev.nixek.ci.operator.image;

import dev.nixek.ci.operator.metrics.OperatorMetrics;
import dev.nixek.ci.operator.collect.CollectorLoop;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventRecorder;
import io.fabric8.kubernetes.client.KubernetesClient;
import dev.nixek.ci.operator.cache.BinaryCache;
import dev.nixek.ci.operator.cache.CachePublishing;
import dev.nixek.ci.operator.cache.CacheStaging;
import java.nio.file.Path;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/**
 * Machine images, wired by hand: the AWS clients, the image reconciler, the job-facing resolver and the collectors.
 * {@code Main} builds it from the configuration and its {@code Seams}; tests build the same with their credentials
 * and crash points.
 */
public final class ImageModule implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ImageModule.class);

  private final AwsClients aws;
  private final NixekMachineImageReconciler reconciler;
  private final ContentAddressedImageResolver resolver;
  private final InlineImageCollector inlineCollector;
  private final ImageCollector awsCollector;
  private final CollectorLoop collector;
  private final boolean configured;
  private final java.time.Duration builderTimeout;
  private CachePublishing publishing;

  private ImageModule(OperatorConfig config, KubernetesClient client, Clock clock, EventRecorder events,
      AwsCredentialsProvider credentials, ImageCrashPoints crashPoints, OperatorMetrics metrics) {
    this.aws = new AwsClients(config.aws(), credentials != null ? credentials
        : DefaultCredentialsProvider.builder().build(), metrics.aws());
    this.reconciler = new NixekMachineImageReconciler(client, config, aws, events, clock, crashPoints,
        metrics.images());
    this.resolver = new ContentAddressedImageResolver(client, config.images(), metrics.images());
    this.inlineCollector = new InlineImageCollector(client, config, clock);
    this.awsCollector = new ImageCollector(client, config, aws, clock);
    // the first run one interval after start: the operator has just (re)started, nothing is urgent
    this.collector = new CollectorLoop("image collector", this::collectOnce, config.images().gcInterval(),
        config.images().gcInterval());
    // without a bucket no image can be built here, and the collector has nothing of this cluster to look at
    this.configured = !config.images().bucket().isEmpty();
    this.builderTimeout = config.images().builderTimeout();
  }

  /**
   * The module of this configuration. {@code credentials}: null for the SDK's default chain (production);
   * {@code crashPoints}: {@link ImageCrashPoints#NONE} in production.
   */
  public static ImageModule create(OperatorConfig config, KubernetesClient client, Clock clock,
      EventRecorder events, AwsCredentialsProvider credentials, ImageCrashPoints crashPoints) {
    return create(config, client, clock, events, credentials, crashPoints, new OperatorMetrics());
  }

  /** {@link #create(OperatorConfig, KubernetesClient, Clock, EventRecorder, AwsCredentialsProvider,
   * ImageCrashPoints)} reporting to the operator's {@code metrics}. */
  public static ImageModule create(OperatorConfig config, KubernetesClient client, Clock clock,
      EventRecorder events, AwsCredentialsProvider credentials, ImageCrashPoints crashPoints,
      OperatorMetrics metrics) {
    return new ImageModule(config, client, clock, events, credentials, crashPoints, metrics);
  }

  /**
   * Turns the binary cache on for builder pods: staging uploads and publishing with this module's AWS clients,
   * Events through {@code events}, NARs spooled under {@code spool}.
   */
  public void enableCache(BinaryCache cache, EventRecorder events, Path spool) {
    CachePublishing publishing = new CachePublishing(cache, () -> aws.s3(aws.defaultRegion()), events, spool);
    this.publishing = publishing;
    reconciler.useCache(new ImageCache(cache, new CacheStaging(aws, cache.bucket()), publishing, events,
        builderTimeout));
  }

  public NixekMachineImageReconciler reconciler() {
    return reconciler;
  }

  public ContentAddressedImageResolver resolver() {
    return resolver;
  }

  public CollectorLoop collector() {
    return collector;
  }

  /**
   * One run of both collectors: first the inline-image collector, whose deletions hand AWS resources to the images'
   * cleaner, then the AWS collector (which runs even when the first failed).
   */
  public void collectOnce() {
    try {
      inlineCollector.collect();
    } catch (RuntimeException e) {
      LOG.warn("inline-image collector run failed: {}", e.toString());
    }
    awsCollector.collect();
  }

  /** Starts the collector when images are configured (a default bucket); called once the operator runs. */
  public void startCollector() {
    if (configured) {
      collector.start();
    }
  }

  @Override
  public void close() {
    collector.close();
    if (publishing != null) {
      publishing.close();
    }
    aws.close();
  }
}
