package dev.nixek.ci.builder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies one output stream of the build process to the pod log and into the {@link LogTail}. It forwards whole
 * lines, because stdout and stderr share one log and interleaving inside a line makes it unreadable; a line
 * longer than {@link #MAX_LINE} is forwarded in pieces so memory stays bounded. It remembers the last
 * non-blank line: the build command prints the Nix output path there. Order is kept within a stream, not
 * across the two (two pipes, two threads); Nix writes all of a build's log to stderr, so its tail reads right.
 */
final class OutputPump implements Runnable {
  static final int MAX_LINE = 16 * 1024;
  private static final Logger LOG = LoggerFactory.getLogger(OutputPump.class);

  private final InputStream in;
  private final OutputStream sink;
  private final LogTail tail;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private volatile String lastLine;

  OutputPump(InputStream in, OutputStream sink, LogTail tail) {
    this.in = in;
    this.sink = sink;
    this.tail = tail;
    tail.openWriter();
  }

  @Override
  public void run() {
    byte[] buffer = new byte[8192];
    try (in) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        int start = 0;
        for (int i = 0; i < n; i++) {
          if (buffer[i] == '\n') {
            line.write(buffer, start, i + 1 - start);
            start = i + 1;
            emit(true);
          } else if (line.size() + (i + 1 - start) >= MAX_LINE) {
            line.write(buffer, start, i + 1 - start);
            start = i + 1;
            emit(false);
          }
        }
        line.write(buffer, start, n - start);
      }
    } catch (IOException e) {
      LOG.warn("reading build output failed: {}", e.toString());
    } finally {
      if (line.size() > 0) {
        line.write('\n');
        emit(true);
      }
      tail.closeWriter();
    }
  }

  /** The last non-blank complete line, stripped; null when there was none. */
  String lastLine() {
    return lastLine;
  }

  private void emit(boolean complete) {
    byte[] bytes = line.toByteArray();
    line.reset();
    try {
      synchronized (sink) {
        sink.write(bytes);
        sink.flush();
      }
    } catch (IOException e) {
      // the pod log going away must not fail the build; the tail still has it
    }
    tail.append(bytes, 0, bytes.length);
    if (complete) {
      String text = new String(bytes, StandardCharsets.UTF_8).strip();
      if (!text.isEmpty()) {
        lastLine = text;
      }
    }
  }
}
