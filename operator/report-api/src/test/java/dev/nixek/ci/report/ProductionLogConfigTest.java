package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The shipped logback.xml (not the tests' one) writes every message as one line, control characters escaped. */
class ProductionLogConfigTest {
  @Test
  void theShippedLayoutEscapesControlCharactersInMessages() throws Exception {
    LoggerContext context = new LoggerContext();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(getClass().getResource("/logback.xml"));
    var root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    var appender = (OutputStreamAppender<?>) root.getAppender("STDERR");
    var encoder = (PatternLayoutEncoder) appender.getEncoder();

    LoggingEvent event = new LoggingEvent("x", root, Level.INFO, "403 for {}/j", null,
        new Object[] {"ci\n2026-11-25T10:00:00Z INFO forged\u001b[2J"});
    String line = new String(encoder.encode(event), StandardCharsets.UTF_8);

    assertThat(line.lines()).hasSize(1);
    assertThat(line).contains("403 for ci\\x0a2026-11-25T10:00:00Z INFO forged\\x1b[2J/j").doesNotContain("\u001b");
    context.stop();
  }
}
