package dev.nixek.ci.e2e;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * The in-process operator's log (every logger of the test JVM) during each test, for the tests that search it for a
 * secret: {@code @RegisterExtension final OperatorLog operatorLog = new OperatorLog();}.
 */
final class OperatorLog implements BeforeEachCallback, AfterEachCallback {
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  @Override
  public void beforeEach(ExtensionContext context) {
    appender.list.clear();
    appender.start();
    root().addAppender(appender);
  }

  /** The events so far. */
  List<ILoggingEvent> events() {
    return List.copyOf(appender.list);
  }

  /** The formatted messages so far, each with its exception's message, one a line. */
  String text() {
    StringBuilder b = new StringBuilder();
    for (ILoggingEvent e : events()) {
      b.append(e.getFormattedMessage())
          .append(e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getMessage()).append('\n');
    }
    return b.toString();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    root().detachAppender(appender);
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }
}
