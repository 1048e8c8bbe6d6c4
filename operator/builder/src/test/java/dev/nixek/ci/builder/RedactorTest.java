package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedactorTest {
  @Test
  void masksSecretsFromTheEnvironment() {
    Redactor redactor = Redactor.fromEnvironment(Map.of(
        "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN",
        "AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"));
    assertThat(redactor.redact("signature for wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY and FwoGZXIvYXdzEXAMPLETOKEN"))
        .isEqualTo("signature for [redacted] and [redacted]");
    // the key id is not a secret and helps debugging
    assertThat(redactor.redact("AKIAIOSFODNN7EXAMPLE")).isEqualTo("AKIAIOSFODNN7EXAMPLE");
    assertThat(redactor.redact(null)).isNull();
  }

  @Test
  void ignoresValuesTooShortToBeSecrets() {
    Redactor redactor = new Redactor(Arrays.asList("abc", null, ""));
    assertThat(redactor.redact("abc def")).isEqualTo("abc def");
  }
}
