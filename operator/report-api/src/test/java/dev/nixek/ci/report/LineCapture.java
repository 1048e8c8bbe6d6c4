package dev.nixek.ci.report;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Keeps the test JVM's log as the configured layout writes it: the lines a log file would hold. */
public final class LineCapture extends OutputStreamAppender<ILoggingEvent> {
  private static final ByteArrayOutputStream OUT = new ByteArrayOutputStream();

  @Override
  public void start() {
    setOutputStream(OUT);
    super.start();
  }

  static List<String> lines() {
    synchronized (OUT) {
      return OUT.toString(StandardCharsets.UTF_8).lines().toList();
    }
  }
}
