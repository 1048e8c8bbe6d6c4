package dev.nixek.ci.agent;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.Map;
import org.slf4j.Logger;

/**
 * The agent's logging, set up in code: logback finds it through {@code META-INF/services} (in the runnable jar only,
 * see the agent's pom) before it would look for a {@code logback.xml}, so the XML configurator (Joran: an XML parser, a model, reflection over every element) is
 * never loaded. That costs the agent's start-up tens of milliseconds a run (bench/agent-start).
 *
 * <p>What it sets up: one appender to stderr (on the VM systemd puts it in the journal; in local mode the operator
 * captures it), lines as {@link #PATTERN}, and the root level from {@code NIXEK_AGENT_LOG_LEVEL} (INFO by default;
 * DEBUG shows every report request: paths and statuses, never headers). The same as {@code logback.xml}, which
 * stays for the class path of tests and of whoever runs the classes without the jar. {@code -Dlogback.configurationFile}
 * still wins.
 */
public final class AgentLogging extends ContextAwareBase implements Configurator {
  static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0} - %msg%n";
  static final String LEVEL_VARIABLE = "NIXEK_AGENT_LOG_LEVEL";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY; // asked for a file: logback's own configurators read it
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(level(System.getenv()));
    root.addAppender(stderr);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** The root level {@code env} asks for; INFO when it asks for none or for something that is not a level. */
  static Level level(Map<String, String> env) {
    return Level.toLevel(env.getOrDefault(LEVEL_VARIABLE, "INFO").strip(), Level.INFO);
  }
}
