package dev.nixek.ci.operator.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.operator.image.BuilderOutcome.Built;
import dev.nixek.ci.operator.image.BuilderOutcome.Failed;
import dev.nixek.ci.operator.image.BuilderOutcome.Working;
import dev.nixek.ci.operator.pod.PodOutcome;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a builder pod's {@link BuilderOutcome} from its phase and its container's termination message, which the
 * builder writes as JSON ({@code nixek-builder}'s {@code TerminationMessage}: {@code {"bucket","key","size",
 * "sha256","drvPath","format","nixVersion",...}} or {@code {"error","logTail"}}).
 */
final class BuilderResults {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  /** What the builder's NixVersion reports; bounded, so no arbitrary text reaches the status. */
  private static final Pattern NIX_VERSION = Pattern.compile("[0-9][0-9A-Za-z.+~_-]{0,63}");
  private static final Set<String> FORMATS = Set.of("VHD", "VMDK", "RAW");
  private static final Set<String> BOOT_MODES = Set.of("uefi", "legacy-bios");

  private BuilderResults() {}

  static BuilderOutcome of(Pod pod) {
    PodOutcome outcome = PodOutcome.of(pod, BuilderPods.CONTAINER);
    if (outcome instanceof PodOutcome.Working w) {
      return new Working(w.started());
    }
    if (outcome instanceof PodOutcome.Succeeded s) {
      return s.container().map(t -> parseSuccess(t.getMessage()))
          .orElseGet(() -> new Failed("the builder pod succeeded but its container status is missing", ""));
    }
    if (outcome instanceof PodOutcome.DeadlineExceeded d) {
      // the builder's own message, if it got to write one, says more than the deadline
      return d.container().map(BuilderResults::parseFailure)
          .orElseGet(() -> new Failed("the builder pod ran longer than its activeDeadlineSeconds ("
              + d.deadlineSeconds() + "s)", nullToEmpty(d.podMessage())));
    }
    if (outcome instanceof PodOutcome.OomKilled o) {
      return parseFailure(o.container());
    }
    if (outcome instanceof PodOutcome.Exited e) {
      return parseFailure(e.container());
    }
    PodOutcome.Vanished v = (PodOutcome.Vanished) outcome;
    return new Failed("the builder pod failed" + (v.reason() == null ? "" : " (" + v.reason() + ")"),
        nullToEmpty(v.message()));
  }

  static BuilderOutcome parseSuccess(String message) {
    JsonNode m;
    try {
      m = message == null || message.isBlank() ? null : JSON.readTree(message);
    } catch (IOException e) {
      m = null;
    }
    if (m == null || !m.isObject()) {
      return new Failed("the builder pod succeeded but left no result (termination message: "
          + abbreviate(message, 200) + ")", "");
    }
    String bucket = text(m, "bucket");
    String key = text(m, "key");
    String sha256 = text(m, "sha256");
    String format = text(m, "format");
    String bootMode = text(m, "bootMode");
    long size = m.path("size").asLong(-1);
    String problem = bucket == null ? "no bucket" : key == null ? "no key" : size <= 0 ? "no size"
        : sha256 == null || !SHA256.matcher(sha256).matches() ? "no SHA-256"
        : format == null || !FORMATS.contains(format) ? "an unknown disk format " + format
        : bootMode != null && !BOOT_MODES.contains(bootMode) ? "an unknown boot mode " + bootMode
        : null;
    if (problem != null) {
      return new Failed("the builder's result is unusable (" + problem + "): " + abbreviate(message, 300),
          "");
    }
    String nixVersion = text(m, "nixVersion");
    if (nixVersion != null && !NIX_VERSION.matcher(nixVersion).matches()) {
      return new Failed("the builder's result is unusable (a malformed nixVersion): " + abbreviate(message, 300), "");
    }
    return new Built(bucket, key, size, sha256, text(m, "drvPath"), format, bootMode, text(m, "system"),
        nixVersion, cachePush(m.get("cache")));
  }

  /** The cache step's outcome; null when there was none. Never a reason to refuse the image's result. */
  private static BuilderOutcome.CachePush cachePush(JsonNode cache) {
    if (cache == null || !cache.isObject()) {
      return null;
    }
    String error = text(cache, "error");
    if (error != null) {
      return new BuilderOutcome.CachePush(-1, 0, abbreviate(error, 300));
    }
    long size = cache.path("size").asLong(-1);
    return size < 0 ? new BuilderOutcome.CachePush(-1, 0, "the builder's cache outcome is malformed")
        : new BuilderOutcome.CachePush(size, cache.path("paths").asInt(0), null);
  }

  static Failed parseFailure(ContainerStateTerminated t) {
    Optional<JsonNode> report = PodOutcome.errorReport(t);
    if (report.isPresent()) {
      return new Failed(report.get().get("error").asText(), report.get().path("logTail").asText(""));
    }
    // not the builder's JSON: the kubelet's fallback (the end of the log), shown as the tail
    String message = t.getMessage();
    return new Failed("the builder exited with code " + t.getExitCode()
        + (t.getReason() == null ? "" : " (" + t.getReason() + ")"), nullToEmpty(message));
  }

  private static String text(JsonNode m, String field) {
    JsonNode n = m.get(field);
    return n != null && n.isTextual() && !n.asText().isBlank() ? n.asText() : null;
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }

  static String abbreviate(String s, int max) {
    if (s == null) {
      return "none";
    }
    return s.length() <= max ? s : s.substring(0, max) + "…";
  }
}
