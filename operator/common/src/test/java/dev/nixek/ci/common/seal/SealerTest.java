package dev.nixek.ci.common.seal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SealerTest {
  private static final String CTX = SealContexts.jobSecrets("ns", "job", "uid-1", 1);
  private final Sealer sealer = new Sealer(SealKey.random());

  @Test
  void roundTripsAnyBytesIncludingEmpty() {
    Random r = new Random(7);
    for (int len : new int[] {0, 1, 15, 16, 17, 1000, 65536}) {
      byte[] p = new byte[len];
      r.nextBytes(p);
      String s = sealer.seal(p, CTX);
      assertThat(s).startsWith("v1.").matches("v1\\.[A-Za-z0-9_-]*");
      assertThat(s).hasSize(Sealer.sealedLength(len));
      assertThat(sealer.open(s, CTX)).isEqualTo(p);
    }
  }

  @Test
  void sealingTwiceGivesDifferentBlobs() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      assertThat(seen.add(sealer.seal("same", CTX))).isTrue();
    }
  }

  @Test
  void theBlobShowsNeitherTheValueNorItsBase64() {
    String value = "hunter2-very-secret-value";
    String s = sealer.seal(value, CTX);
    assertThat(s).doesNotContain(value)
        .doesNotContain(Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8)))
        .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(value.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void anotherContextDoesNotOpen() {
    String s = sealer.seal("v", CTX);
    assertThatThrownBy(() -> sealer.open(s, SealContexts.jobSecrets("ns", "job", "uid-1", 2)))
        .isInstanceOf(Sealer.SealException.class);
    assertThatThrownBy(() -> sealer.open(s, SealContexts.jobSecrets("ns", "other", "uid-1", 1)))
        .isInstanceOf(Sealer.SealException.class);
    assertThatThrownBy(() -> sealer.open(s, SealContexts.repository("webhook-secret", "ns", "job", "uid-1")))
        .isInstanceOf(Sealer.SealException.class);
  }

  @Test
  void anotherKeyDoesNotOpen() {
    String s = sealer.seal("v", CTX);
    assertThatThrownBy(() -> new Sealer(SealKey.random()).open(s, CTX))
        .isInstanceOf(Sealer.SealException.class)
        .hasMessageNotContaining(s);
  }

  @Test
  void everyAlteredCharacterIsRefused() {
    String s = sealer.seal("the value", CTX);
    for (int i = "v1.".length(); i < s.length(); i++) {
      char c = s.charAt(i);
      String altered = s.substring(0, i) + (c == 'A' ? 'B' : 'A') + s.substring(i + 1);
      // the last character may carry only padding bits, which base64url decoding ignores; all others must fail
      if (i == s.length() - 1 && sameBytes(altered, s)) {
        continue;
      }
      String a = altered;
      assertThatThrownBy(() -> sealer.open(a, CTX)).isInstanceOf(Sealer.SealException.class);
    }
    assertThatThrownBy(() -> sealer.open(s.substring(0, s.length() - 4), CTX))
        .isInstanceOf(Sealer.SealException.class);
    assertThatThrownBy(() -> sealer.open(s + "AAAA", CTX)).isInstanceOf(Sealer.SealException.class);
  }

  @Test
  void malformedBlobsGiveClearErrors() {
    assertThatThrownBy(() -> sealer.open(null, CTX)).isInstanceOf(Sealer.SealException.class);
    assertThatThrownBy(() -> sealer.open("v2.AAAA", CTX)).hasMessageContaining("known version");
    assertThatThrownBy(() -> sealer.open("v1.!!!", CTX)).hasMessageContaining("base64url");
    assertThatThrownBy(() -> sealer.open("v1.AAAA", CTX)).hasMessageContaining("too short");
    assertThatThrownBy(() -> sealer.seal("x", "")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void keysAreExactly32BytesAndNeverPrinted() {
    assertThatThrownBy(() -> new SealKey(new byte[16])).hasMessageContaining("32");
    SealKey k = new SealKey(new byte[32]);
    assertThat(k.toString()).doesNotContain("0").contains("redacted");
    assertThat(k).isEqualTo(new SealKey(new byte[32])).isNotEqualTo(SealKey.random());
  }

  private static boolean sameBytes(String a, String b) {
    try {
      return java.util.Arrays.equals(Base64.getUrlDecoder().decode(a.substring(3)),
          Base64.getUrlDecoder().decode(b.substring(3)));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
