package dev.nixek.ci.builder;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON the pod leaves in its termination-message file, which the operator reads from the pod status.
 * Kubernetes keeps at most 4096 bytes of it per container, so a failure message trims its log tail (from the
 * front: the end of a log says why it failed) until the whole JSON fits, never splitting a character.
 */
public final class TerminationMessage {
  public static final int MAX_BYTES = 4096;
  /** The error is one line and short: the tail carries the detail. */
  static final int MAX_ERROR_CHARS = 1024;
  static final String ELLIPSIS = "…";

  private static final ObjectMapper JSON = new ObjectMapper();

  private TerminationMessage() {}

  public static String success(ImageResult result) {
    String json = write(result);
    if (utf8Length(json) > MAX_BYTES) {
      // cannot happen with keys capped at 1024 bytes and store paths; fail loudly rather than be truncated
      throw new IllegalStateException("result of " + utf8Length(json) + " bytes exceeds " + MAX_BYTES);
    }
    return json;
  }

  /** {@code {"error": <one line>, "logTail": <as much of the end of tail as fits>}} in at most 4096 bytes. */
  public static String failure(String error, String tail) {
    String line = cut(oneLine(error == null ? "unknown error" : error), MAX_ERROR_CHARS);
    String logTail = tail == null ? "" : tail;
    String full = failureJson(line, logTail);
    if (utf8Length(full) <= MAX_BYTES) {
      return full;
    }
    // keep the longest suffix that fits; JSON escaping makes the size non-linear, so search rather than compute
    int low = 0;
    int high = logTail.length();
    String best = failureJson(line, ELLIPSIS);
    while (low <= high) {
      int keep = (low + high) >>> 1;
      String json = failureJson(line, ELLIPSIS + suffix(logTail, keep));
      if (utf8Length(json) <= MAX_BYTES) {
        best = json;
        low = keep + 1;
      } else {
        high = keep - 1;
      }
    }
    return best;
  }

  /** Writes the message; a missing file outside a pod (local runs) is reported, not fatal. */
  public static void writeTo(Path file, String message) throws IOException {
    Files.write(file, message.getBytes(StandardCharsets.UTF_8));
  }

  static String oneLine(String text) {
    return text.strip().replaceAll("\\s*[\\r\\n]+\\s*", " | ").replaceAll("\\p{Cntrl}", " ");
  }

  /** At most {@code max} chars of the start of {@code text}, not ending inside a surrogate pair. */
  static String cut(String text, int max) {
    if (text.length() <= max) {
      return text;
    }
    int end = max - 1;
    if (Character.isHighSurrogate(text.charAt(end - 1))) {
      end--;
    }
    return text.substring(0, end) + ELLIPSIS;
  }

  /** The last {@code keep} chars of {@code text}, one less if the cut would split a surrogate pair. */
  static String suffix(String text, int keep) {
    int start = text.length() - keep;
    if (start > 0 && start < text.length() && Character.isLowSurrogate(text.charAt(start))) {
      start++;
    }
    return text.substring(start);
  }

  private static String failureJson(String error, String logTail) {
    Map<String, String> message = new LinkedHashMap<>();
    message.put("error", error);
    message.put("logTail", logTail);
    return write(message);
  }

  private static String write(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("serialising the termination message", e);
    }
  }

  static int utf8Length(String text) {
    return text.getBytes(StandardCharsets.UTF_8).length;
  }
}
