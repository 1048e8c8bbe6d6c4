package dev.nixek.ci.agent;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the agent replaces by {@code ***} in step output (docs/secrets.md#masking): every secret value of at least
 * {@link #MIN_LENGTH} bytes without its trailing line breaks and spaces (the break stays, so lines stay lines), and
 * the base64 of the value with and without them in the standard and the URL-safe alphabet, padded or not. Shorter values are not masked: masking every "ab" would garble the log and still tell the value.
 */
final class SecretMasks {
  /** The shortest value masked, in bytes. */
  static final int MIN_LENGTH = 4;
  static final byte[] MASK = "***".getBytes(StandardCharsets.US_ASCII);

  /** Longest first, so that at one position the longest form wins (a value and its longer base64 alike). */
  private final byte[][] patterns;
  private final int maxLength;

  private SecretMasks(byte[][] patterns) {
    this.patterns = patterns;
    this.maxLength = Arrays.stream(patterns).mapToInt(p -> p.length).max().orElse(0);
  }

  static final SecretMasks NONE = new SecretMasks(new byte[0][]);

  /** The masks for these values; values shorter than {@link #MIN_LENGTH} are left out. */
  static SecretMasks of(Iterable<byte[]> values) {
    Set<String> seen = new LinkedHashSet<>();
    List<byte[]> out = new ArrayList<>();
    for (byte[] v : values) {
      byte[] trimmed = trimEnd(v);
      if (trimmed.length < MIN_LENGTH) {
        continue;
      }
      // the text without its trailing line break: masking that too would join the step's lines
      add(out, seen, trimmed);
      for (byte[] form : List.of(v, trimmed)) {
        // padded forms too, so no '=' is left behind after the mask (the longest form wins)
        add(out, seen, Base64.getEncoder().encode(form));
        add(out, seen, Base64.getEncoder().withoutPadding().encode(form));
        add(out, seen, Base64.getUrlEncoder().encode(form));
        add(out, seen, Base64.getUrlEncoder().withoutPadding().encode(form));
      }
    }
    out.sort(Comparator.comparingInt((byte[] p) -> p.length).reversed());
    return new SecretMasks(out.toArray(byte[][]::new));
  }

  /** Whether a value is too short to be masked. */
  static boolean tooShort(byte[] value) {
    return trimEnd(value).length < MIN_LENGTH;
  }

  boolean isEmpty() {
    return patterns.length == 0;
  }

  /** The longest pattern: a stream holds back at most one byte less than this. */
  int maxLength() {
    return maxLength;
  }

  /** A masking stream in front of {@code sink}. */
  Stream stream(Sink sink) {
    return new Stream(sink);
  }

  /** Where masked bytes go. */
  interface Sink {
    void write(byte[] buf, int off, int len) throws java.io.IOException;
  }

  /**
   * Masks a byte stream that arrives in chunks of any size: a value split across chunks is caught, because the bytes
   * at the end of a chunk that could still be the start of a pattern are held back (at most {@code maxLength - 1})
   * until the next chunk or {@link #flush()} decides them. Not thread-safe: one writer.
   */
  final class Stream {
    private final Sink sink;
    private byte[] pending = new byte[0];

    private Stream(Sink sink) {
      this.sink = sink;
    }

    void write(byte[] buf, int off, int len) throws java.io.IOException {
      if (patterns.length == 0) {
        sink.write(buf, off, len);
        return;
      }
      byte[] data = new byte[pending.length + len];
      System.arraycopy(pending, 0, data, 0, pending.length);
      System.arraycopy(buf, off, data, pending.length, len);
      pending = emit(data, false);
    }

    /** The end of the stream: what was held back is decided with what is there. */
    void flush() throws java.io.IOException {
      if (pending.length > 0) {
        pending = emit(pending, true);
      }
    }

    /** Writes what is decided; returns what must wait for more bytes. */
    private byte[] emit(byte[] data, boolean last) throws java.io.IOException {
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(data.length);
      int i = 0;
      while (i < data.length) {
        int remaining = data.length - i;
        if (!last && remaining < maxLength && couldStart(data, i)) {
          break;
        }
        int matched = match(data, i);
        if (matched > 0) {
          out.write(MASK);
          i += matched;
        } else {
          out.write(data[i]);
          i++;
        }
      }
      if (out.size() > 0) {
        byte[] b = out.toByteArray();
        sink.write(b, 0, b.length);
      }
      return Arrays.copyOfRange(data, i, data.length);
    }

    /** Whether some pattern longer than what is left matches all of what is left: undecided. */
    private boolean couldStart(byte[] data, int at) {
      int remaining = data.length - at;
      for (byte[] p : patterns) {
        if (p.length <= remaining) {
          break; // sorted longest first: the rest fit, and match() decides them
        }
        if (regionMatches(data, at, p, remaining)) {
          return true;
        }
      }
      return false;
    }

    /** The length of the longest pattern matching at {@code at}, or 0. */
    private int match(byte[] data, int at) {
      int remaining = data.length - at;
      for (byte[] p : patterns) {
        if (p.length <= remaining && regionMatches(data, at, p, p.length)) {
          return p.length;
        }
      }
      return 0;
    }
  }

  private static boolean regionMatches(byte[] data, int at, byte[] pattern, int len) {
    for (int k = 0; k < len; k++) {
      if (data[at + k] != pattern[k]) {
        return false;
      }
    }
    return true;
  }

  private static void add(List<byte[]> out, Set<String> seen, byte[] p) {
    if (p.length >= MIN_LENGTH && seen.add(Base64.getEncoder().encodeToString(p))) {
      out.add(p);
    }
  }

  private static byte[] trimEnd(byte[] v) {
    int end = v.length;
    while (end > 0 && (v[end - 1] == '\n' || v[end - 1] == '\r' || v[end - 1] == ' ' || v[end - 1] == '\t')) {
      end--;
    }
    return end == v.length ? v : Arrays.copyOf(v, end);
  }
}
