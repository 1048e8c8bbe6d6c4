package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ChildEnvironmentTest {
  @Test
  void theChildGetsTheGivenEnvironmentWithoutAwsSettingsAndNothingOfTheJvms() {
    ProcessBuilder pb = new ProcessBuilder("true");
    pb.environment().put("INHERITED_FROM_THE_JVM", "x");
    ChildEnvironment.apply(pb, Map.of("PATH", "/bin", "NIXEK_IMAGE_EXPR", "/etc/nixek/image.nix",
        "AWS_SECRET_ACCESS_KEY", "secret", "AWS_ROLE_ARN", "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE", "/t"));
    assertThat(pb.environment()).containsExactlyInAnyOrderEntriesOf(
        Map.of("PATH", "/bin", "NIXEK_IMAGE_EXPR", "/etc/nixek/image.nix"));
  }
}
