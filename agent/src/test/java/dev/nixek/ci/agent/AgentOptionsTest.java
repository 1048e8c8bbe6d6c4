package dev.nixek.ci.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AgentOptionsTest {
  @Test
  void defaults() throws Exception {
    AgentOptions o = AgentOptions.parse("--config", "/etc/job.json");
    assertThat(o.configFile()).contains(Path.of("/etc/job.json"));
    assertThat(o.imdsBaseUrl()).isEmpty();
    assertThat(o.poweroff()).isFalse();
    assertThat(o.poweroffCommand()).isEqualTo("systemctl poweroff");
    assertThat(o.workDir()).isEmpty();
    assertThat(o.spoolDir()).isEmpty();
    assertThat(o.runAs()).isEmpty();
    assertThat(o.drainTimeout()).isEqualTo(Duration.ofSeconds(600));
    assertThat(o.killGrace()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void everyOptionInBothSpellings() throws Exception {
    AgentOptions o = AgentOptions.parse("--config-from-imds=http://169.254.169.254/", "--poweroff",
        "--poweroff-command", "/run/current-system/sw/bin/poweroff -f", "--work-dir=/var/lib/nixek/work",
        "--spool-dir", "/var/lib/nixek/spool", "--run-as=nixek-job", "--drain-timeout-seconds", "30",
        "--kill-grace-seconds=2", "--imds-timeout-seconds", "90");
    assertThat(o.imdsBaseUrl()).contains(URI.create("http://169.254.169.254"));
    assertThat(o.configFile()).isEmpty();
    assertThat(o.poweroff()).isTrue();
    assertThat(o.poweroffCommand()).isEqualTo("/run/current-system/sw/bin/poweroff -f");
    assertThat(o.workDir()).contains(Path.of("/var/lib/nixek/work"));
    assertThat(o.spoolDir()).contains(Path.of("/var/lib/nixek/spool"));
    assertThat(o.runAs()).isEqualTo(Optional.of("nixek-job"));
    assertThat(o.drainTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(o.killGrace()).isEqualTo(Duration.ofSeconds(2));
    assertThat(o.imdsTimeout()).isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void usageErrors() {
    assertThatThrownBy(AgentOptions::parse).hasMessageContaining("exactly one of");
    assertThatThrownBy(() -> AgentOptions.parse("--config", "a", "--config-from-imds", "http://x"))
        .hasMessageContaining("exactly one of");
    assertThatThrownBy(() -> AgentOptions.parse("--config")).hasMessageContaining("needs a value");
    assertThatThrownBy(() -> AgentOptions.parse("--config=")).hasMessageContaining("non-empty");
    assertThatThrownBy(() -> AgentOptions.parse("--config", "a", "--bogus")).hasMessageContaining("unknown");
    assertThatThrownBy(() -> AgentOptions.parse("--config", "a", "--drain-timeout-seconds", "-1"))
        .hasMessageContaining("whole number");
    assertThatThrownBy(() -> AgentOptions.parse("--config-from-imds", "169.254.169.254"))
        .hasMessageContaining("http://");
    assertThatThrownBy(() -> AgentOptions.parse("--config", "a", "--poweroff=yes")).hasMessageContaining("no value");
  }

  @Test
  void helpNeedsNoConfig() throws Exception {
    assertThat(AgentOptions.parse("--help").help()).isTrue();
  }
}
