package dev.nixek.ci.report;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Keeps every log line of the test JVM (message, arguments, exceptions), so tests can search them for secrets. */
public final class CapturingAppender extends AppenderBase<ILoggingEvent> {
  private static final List<String> LINES = new CopyOnWriteArrayList<>();

  @Override
  protected void append(ILoggingEvent e) {
    StringBuilder sb = new StringBuilder(e.getLevel() + " " + e.getLoggerName() + " " + e.getFormattedMessage());
    e.getMDCPropertyMap().forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
    for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
      sb.append("\n").append(t.getClassName()).append(": ").append(t.getMessage());
      for (StackTraceElementProxy s : t.getStackTraceElementProxyArray()) {
        sb.append("\n  ").append(s.getSTEAsString());
      }
    }
    LINES.add(sb.toString());
  }

  static List<String> lines() {
    return List.copyOf(LINES);
  }
}
