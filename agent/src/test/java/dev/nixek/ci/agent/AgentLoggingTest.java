package dev.nixek.ci.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.core.ConsoleAppender;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

class AgentLoggingTest {

  @Test
  void oneStderrAppenderAndTheLevelFromTheEnvironment() {
    LoggerContext context = new LoggerContext();
    AgentLogging logging = new AgentLogging();
    logging.setContext(context);
    assertThat(logging.configure(context)).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getAppender("STDERR")).isInstanceOfSatisfying(ConsoleAppender.class, a -> {
      assertThat(a.getTarget()).isEqualTo("System.err");
      assertThat(a.isStarted()).isTrue();
    });
    assertThat(root.getLevel()).isEqualTo(AgentLogging.level(System.getenv()));
  }

  @Test
  void levelIsInfoUnlessTheVariableNamesAnother() {
    assertThat(AgentLogging.level(Map.of())).isEqualTo(Level.INFO);
    assertThat(AgentLogging.level(Map.of("NIXEK_AGENT_LOG_LEVEL", "DEBUG"))).isEqualTo(Level.DEBUG);
    assertThat(AgentLogging.level(Map.of("NIXEK_AGENT_LOG_LEVEL", " warn "))).isEqualTo(Level.WARN);
    assertThat(AgentLogging.level(Map.of("NIXEK_AGENT_LOG_LEVEL", "loud"))).isEqualTo(Level.INFO);
  }

  @Test
  void anExplicitConfigurationFileIsLeftToLogback() {
    LoggerContext context = new LoggerContext();
    AgentLogging logging = new AgentLogging();
    logging.setContext(context);
    String before = System.getProperty("logback.configurationFile");
    System.setProperty("logback.configurationFile", "/nonexistent/logback.xml");
    try {
      assertThat(logging.configure(context)).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
      assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR")).isNull();
    } finally {
      if (before == null) {
        System.clearProperty("logback.configurationFile");
      } else {
        System.setProperty("logback.configurationFile", before);
      }
    }
  }
}
