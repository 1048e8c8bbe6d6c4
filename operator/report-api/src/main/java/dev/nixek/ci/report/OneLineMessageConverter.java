package dev.nixek.ci.report;

import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.nixek.ci.common.text.ControlChars;

/**
 * The log pattern's {@code %msg}, with every control character escaped ({@link ControlChars#escapeAll}): a log
 * message is one line whatever a request put in it (a {@code %0A} in a path parameter, an ESC in a name), so no
 * client can forge a log line or drive the terminal of whoever tails the log. Installed in logback.xml; it covers
 * every logger of the process, ours and the libraries'.
 */
public final class OneLineMessageConverter extends MessageConverter {
  @Override
  public String convert(ILoggingEvent event) {
    return ControlChars.escapeAll(super.convert(event));
  }
}
