package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.operator.config.OperatorConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the images made for inline job machines ({@link ContentAddressedImageResolver}) once no job in their
 * namespace uses them (by inline machine or by name) for the retention period. The first run that finds an image
 * unused marks it ({@link ContentAddressedImageResolver#UNREFERENCED_SINCE}); a later run deletes it — with a
 * resourceVersion precondition, so that a job resolving it in between (which removes the mark) wins. Deleting the
 * image runs its cleaner, which removes the AMI, snapshot and S3 object unless another image shares them.
 * Images people created themselves (without the inline label) are never touched.
 */
public final class InlineImageCollector {
  private static final Logger LOG = LoggerFactory.getLogger(InlineImageCollector.class);

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final Clock clock;

  public InlineImageCollector(KubernetesClient client, OperatorConfig config, Clock clock) {
    this.client = client;
    this.config = config;
    this.clock = clock;
  }

  /** Names of the images deleted by this run. */
  public List<String> collect() {
    Instant now = clock.instant();
    List<NixekMachineImage> inline = inlineImages();
    Map<String, Set<String>> usedByNamespace = new HashMap<>();
    List<String> deleted = new ArrayList<>();
    for (NixekMachineImage image : inline) {
      String ns = image.getMetadata().getNamespace();
      String name = image.getMetadata().getName();
      if (image.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      Set<String> used = usedByNamespace.computeIfAbsent(ns, this::imagesUsedBy);
      String mark = image.getMetadata().getAnnotations() == null ? null
          : image.getMetadata().getAnnotations().get(ContentAddressedImageResolver.UNREFERENCED_SINCE);
      var resource = client.resources(NixekMachineImage.class).inNamespace(ns).withName(name);
      try {
        if (used.contains(name)) {
          if (mark != null) {
            resource.patch(PatchContext.of(PatchType.JSON_MERGE), annotation(null));
          }
        } else if (mark == null || since(mark) == null) {
          resource.patch(PatchContext.of(PatchType.JSON_MERGE),
              annotation(now.truncatedTo(ChronoUnit.SECONDS).toString()));
        } else if (!since(mark).plus(config.images().inlineRetention()).isAfter(now)) {
          // decided on this version: a job that resolved the image since has changed it, and the delete fails
          client.resources(NixekMachineImage.class).inNamespace(ns).resource(image)
              .lockResourceVersion(image.getMetadata().getResourceVersion()).delete();
          deleted.add(ns + "/" + name);
          LOG.info("deleted NixekMachineImage {}/{}: no job has used it since {}", ns, name, mark);
        }
      } catch (KubernetesClientException e) {
        if (e.getCode() != 404 && e.getCode() != 409) {
          throw e;
        }
        LOG.debug("inline image {}/{} changed meanwhile ({}); next run", ns, name, e.getCode());
      }
    }
    return deleted;
  }

  /** The images the jobs of {@code ns} use: by name, or through their inline machine. */
  private Set<String> imagesUsedBy(String ns) {
    Set<String> used = new HashSet<>();
    for (NixekJob job : client.resources(NixekJob.class).inNamespace(ns).list().getItems()) {
      if (job.getSpec() == null) {
        continue;
      }
      if (job.getSpec().machineImageName != null) {
        used.add(job.getSpec().machineImageName);
      }
      ContentAddressedImageResolver.inlineImageName(job, config.images()).ifPresent(used::add);
    }
    return used;
  }

  private List<NixekMachineImage> inlineImages() {
    var images = client.resources(NixekMachineImage.class);
    if (config.watchNamespaces().isEmpty()) {
      return images.inAnyNamespace().withLabel(Labels.COMPONENT, ContentAddressedImageResolver.COMPONENT).list()
          .getItems();
    }
    List<NixekMachineImage> all = new ArrayList<>();
    for (String ns : config.watchNamespaces()) {
      all.addAll(images.inNamespace(ns).withLabel(Labels.COMPONENT, ContentAddressedImageResolver.COMPONENT).list()
          .getItems());
    }
    return all;
  }

  private static String annotation(String value) {
    return "{\"metadata\":{\"annotations\":{\"" + ContentAddressedImageResolver.UNREFERENCED_SINCE + "\":"
        + (value == null ? "null" : "\"" + value + "\"") + "}}}";
  }

  private static Instant since(String mark) {
    try {
      return Instant.parse(mark);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
