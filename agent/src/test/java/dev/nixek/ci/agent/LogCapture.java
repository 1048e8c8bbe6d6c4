package dev.nixek.ci.agent;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Everything the agent logs (at DEBUG, with stack traces) while it is open. */
final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  private final List<String> lines = new ArrayList<>();
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  private final Level previous;

  LogCapture() {
    previous = root.getLevel();
    setContext(root.getLoggerContext());
    start();
    root.addAppender(this);
    root.setLevel(Level.DEBUG);
  }

  @Override
  protected synchronized void append(ILoggingEvent event) {
    String line = event.getLevel() + " " + event.getLoggerName() + " " + event.getFormattedMessage();
    if (event.getThrowableProxy() != null) {
      line += "\n" + ThrowableProxyUtil.asString(event.getThrowableProxy());
    }
    lines.add(line);
  }

  synchronized String text() {
    return String.join("\n", lines);
  }

  @Override
  public void close() {
    root.detachAppender(this);
    root.setLevel(previous);
    stop();
  }
}
