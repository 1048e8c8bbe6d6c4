package dev.nixek.ci.agent;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Powers the machine off when the job is done; on EC2 the instance was launched with shutdown behaviour
 * "terminate", so this ends it. A failure is only logged: the job's exit code must not change because of it.
 */
final class PowerOff {
  private static final Logger LOG = LoggerFactory.getLogger(PowerOff.class);
  private static final long TIMEOUT_SECONDS = 60;

  private PowerOff() {}

  static void run(String command) {
    LOG.info("powering off: {}", command);
    try {
      Process p = new ProcessBuilder("/bin/sh", "-c", command).inheritIO().start();
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        LOG.error("poweroff command did not finish within {} s", TIMEOUT_SECONDS);
      } else if (p.exitValue() != 0) {
        LOG.error("poweroff command failed with exit code {}", p.exitValue());
      }
    } catch (IOException e) {
      LOG.error("poweroff command could not be started: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
