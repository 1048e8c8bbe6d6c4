package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {
  private static final byte[] SECRET = "It's a Secret to Everybody".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PAYLOAD = "Hello, World!".getBytes(StandardCharsets.UTF_8);
  /** GitHub's documented example of X-Hub-Signature-256 for this secret and payload. */
  private static final String GITHUB_EXAMPLE =
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

  @Test
  void githubsDocumentedExampleVerifies() {
    assertThat(WebhookSignature.sign(SECRET, PAYLOAD)).isEqualTo(GITHUB_EXAMPLE);
    assertThat(WebhookSignature.verify(SECRET, PAYLOAD, GITHUB_EXAMPLE)).isTrue();
  }

  @Test
  void upperCaseHexIsTheSameSignature() {
    assertThat(WebhookSignature.verify(SECRET, PAYLOAD, "sha256=" + GITHUB_EXAMPLE.substring(7).toUpperCase()))
        .isTrue();
  }

  @Test
  void anotherBodySecretOrDigitFails() {
    assertThat(WebhookSignature.verify(SECRET, "Hello, World?".getBytes(StandardCharsets.UTF_8), GITHUB_EXAMPLE))
        .isFalse();
    assertThat(WebhookSignature.verify("It's a Secret to Everybody!".getBytes(StandardCharsets.UTF_8), PAYLOAD,
        GITHUB_EXAMPLE)).isFalse();
    String lastDigitChanged = GITHUB_EXAMPLE.substring(0, GITHUB_EXAMPLE.length() - 1) + "6";
    assertThat(WebhookSignature.verify(SECRET, PAYLOAD, lastDigitChanged)).isFalse();
    // a trailing newline is another body: the signature is over the bytes as sent
    assertThat(WebhookSignature.verify(SECRET, "Hello, World!\n".getBytes(StandardCharsets.UTF_8), GITHUB_EXAMPLE))
        .isFalse();
  }

  @Test
  void malformedHeadersAreRefusedWithoutComputing() {
    String hex = GITHUB_EXAMPLE.substring(7);
    for (String bad : new String[] {null, "", hex, "sha1=" + hex, "sha256=" + hex.substring(1),
        "sha256=" + hex + "0", "sha256=" + hex.replace('7', 'g'), "SHA256=" + hex, " sha256=" + hex}) {
      assertThat(WebhookSignature.wellFormed(bad)).as("%s", bad).isFalse();
      assertThat(WebhookSignature.verify(SECRET, PAYLOAD, bad)).as("%s", bad).isFalse();
    }
  }
}
