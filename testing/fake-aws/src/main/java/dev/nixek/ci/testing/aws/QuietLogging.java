package dev.nixek.ci.testing.aws;

import java.util.List;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Keeps third-party libraries used by these fakes (s3proxy, Jetty, the AWS SDK, cloud SDKs pulled in by
 * s3proxy) from flooding test output. Logback with no configuration logs everything at DEBUG (s3proxy alone
 * prints ~750k lines per test run), and modules that consume this one as a test dependency may not bring a
 * {@code logback-test.xml}.
 *
 * <p>Only loggers that have <em>no explicitly configured level</em> are raised to WARN, so a consumer's own
 * logback configuration always wins. Does nothing when the slf4j binding is not logback. Set the system
 * property {@code nixek.fakeaws.verbose=true} to skip it.
 */
public final class QuietLogging {

    /** Logger names (prefixes) silenced to WARN unless configured otherwise. */
    public static final List<String> NOISY_LOGGERS = List.of(
            "org.gaul", "org.gaul.shaded", "org.eclipse.jetty", "org.jclouds", "jclouds",
            "software.amazon.awssdk", "org.apache.http", "org.apache.hc",
            "com.google", "com.azure", "io.opentelemetry", "io.grpc", "io.netty", "org.apache.sshd",
            "com.github.openstack4j", "reactor", "okhttp3", "com.sun.net.httpserver");

    private static volatile boolean applied;

    private QuietLogging() {
    }

    /** Raises the {@link #NOISY_LOGGERS} to WARN (idempotent, cheap after the first call). */
    public static void quietThirdPartyLoggers() {
        if (applied || Boolean.getBoolean("nixek.fakeaws.verbose")) {
            return;
        }
        synchronized (QuietLogging.class) {
            if (applied) {
                return;
            }
            ILoggerFactory factory = LoggerFactory.getILoggerFactory();
            if (factory.getClass().getName().startsWith("ch.qos.logback.")) {
                LogbackLevels.warnUnlessConfigured(NOISY_LOGGERS);
            }
            applied = true;
        }
    }

    /** Isolated so that logback classes are only loaded when logback is the binding. */
    private static final class LogbackLevels {
        static void warnUnlessConfigured(List<String> names) {
            ch.qos.logback.classic.LoggerContext context =
                    (ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory();
            for (String name : names) {
                ch.qos.logback.classic.Logger logger = context.getLogger(name);
                if (logger.getLevel() == null && !hasConfiguredAncestor(context, name)) {
                    logger.setLevel(ch.qos.logback.classic.Level.WARN);
                }
            }
        }

        private static boolean hasConfiguredAncestor(ch.qos.logback.classic.LoggerContext context, String name) {
            String n = name;
            int dot;
            while ((dot = n.lastIndexOf('.')) > 0) {
                n = n.substring(0, dot);
                ch.qos.logback.classic.Logger parent = context.exists(n);
                if (parent != null && parent.getLevel() != null) {
                    return true;
                }
            }
            return false;
        }
    }
}
