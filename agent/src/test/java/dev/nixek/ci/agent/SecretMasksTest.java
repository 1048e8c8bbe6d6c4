package dev.nixek.ci.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SecretMasksTest {
  private static final String VALUE = "s3cr3t-Value+/xyz";

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Masks {@code input} written in the given chunk sizes (the rest in one last chunk), then flushed. */
  private static String mask(SecretMasks masks, byte[] input, int... chunks) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SecretMasks.Stream s = masks.stream(out::write);
    int at = 0;
    for (int c : chunks) {
      int n = Math.min(c, input.length - at);
      s.write(input, at, n);
      at += n;
    }
    s.write(input, at, input.length - at);
    s.flush();
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void masksTheValueItsTrimmedFormAndItsBase64() throws IOException {
    SecretMasks masks = SecretMasks.of(List.of(b(VALUE + "\n")));
    String std = Base64.getEncoder().encodeToString(b(VALUE));
    String url = Base64.getUrlEncoder().withoutPadding().encodeToString(b(VALUE));
    String withNewline = Base64.getEncoder().encodeToString(b(VALUE + "\n"));
    assertThat(std).isNotEqualTo(url); // the value has '+' and '/' in its base64? make sure both alphabets are tried
    String in = "a " + VALUE + " b " + std + " c " + url + " d " + withNewline + " e";
    assertThat(mask(masks, b(in))).isEqualTo("a *** b *** c *** d *** e");
  }

  @Test
  void aValueStraddlingChunkBoundariesIsMaskedWhereverItIsCut() throws IOException {
    SecretMasks masks = SecretMasks.of(List.of(b(VALUE)));
    byte[] in = b("before " + VALUE + " after");
    for (int cut = 0; cut <= in.length; cut++) {
      assertThat(mask(masks, in, cut)).as("cut at %d", cut).isEqualTo("before *** after");
    }
    // one byte at a time
    int[] ones = new int[in.length];
    java.util.Arrays.fill(ones, 1);
    assertThat(mask(masks, in, ones)).isEqualTo("before *** after");
  }

  @Test
  void holdsBackLessThanTheLongestPatternAndFlushesAtTheEnd() throws IOException {
    SecretMasks masks = SecretMasks.of(List.of(b(VALUE)));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SecretMasks.Stream s = masks.stream(out::write);
    byte[] partial = b("x" + VALUE.substring(0, 5));
    s.write(partial, 0, partial.length);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("x");
    byte[] big = b("y".repeat(1000));
    s.write(big, 0, big.length);
    // the held prefix turned out not to be the value: it goes out with the rest, bar what could still start one
    assertThat(out.size()).isGreaterThanOrEqualTo(1 + 5 + 1000 - (masks.maxLength() - 1));
    s.flush();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("x" + VALUE.substring(0, 5) + "y".repeat(1000));
  }

  @Test
  void aPrefixAtTheVeryEndIsNotMaskedAndNothingIsLost() throws IOException {
    SecretMasks masks = SecretMasks.of(List.of(b(VALUE)));
    String in = "end " + VALUE.substring(0, VALUE.length() - 1);
    assertThat(mask(masks, b(in), 3)).isEqualTo(in);
  }

  @Test
  void shortValuesAreNotMasked() throws IOException {
    SecretMasks masks = SecretMasks.of(List.of(b("abc"), b("ab\n")));
    assertThat(masks.isEmpty()).isTrue();
    assertThat(SecretMasks.tooShort(b("abc\n"))).isTrue();
    assertThat(SecretMasks.tooShort(b("abcd"))).isFalse();
    assertThat(mask(masks, b("abc abc"))).isEqualTo("abc abc");
  }

  @Test
  void theLongestFormWinsAndOverlappingValuesLeaveNeitherBehind() throws IOException {
    SecretMasks masks = SecretMasks.of(List.of(b("token"), b("token-long-form")));
    assertThat(mask(masks, b("x token-long-form y token z"), 8)).isEqualTo("x *** y *** z");
  }

  @Test
  void withoutSecretsBytesPassUnchanged() throws IOException {
    assertThat(mask(SecretMasks.NONE, b("anything at all"), 2, 3)).isEqualTo("anything at all");
  }

  /** Property: for random values, text and splits, the masked stream is the one-shot result and holds no value. */
  @Test
  void randomSplitsGiveTheOneShotResultAndNoValueSurvives() throws IOException {
    Random r = new Random(20261207);
    for (int round = 0; round < 500; round++) {
      List<byte[]> values = new ArrayList<>();
      int n = 1 + r.nextInt(4);
      for (int k = 0; k < n; k++) {
        values.add(randomText(r, 4 + r.nextInt(40), "abcxyz+/=-_0189\n"));
      }
      SecretMasks masks = SecretMasks.of(values);
      ByteArrayOutputStream text = new ByteArrayOutputStream();
      int parts = r.nextInt(8);
      for (int k = 0; k < parts; k++) {
        text.writeBytes(randomText(r, r.nextInt(30), "abcxyz+/=-_0189 \n"));
        byte[] v = values.get(r.nextInt(values.size()));
        switch (r.nextInt(3)) {
          case 0 -> text.writeBytes(v);
          case 1 -> text.writeBytes(Base64.getEncoder().encode(v));
          default -> text.writeBytes(Base64.getUrlEncoder().withoutPadding().encode(v));
        }
      }
      byte[] in = text.toByteArray();
      String oneShot = mask(masks, in);
      int[] cuts = new int[r.nextInt(10)];
      for (int k = 0; k < cuts.length; k++) {
        cuts[k] = r.nextInt(12);
      }
      assertThat(mask(masks, in, cuts)).as("round %d", round).isEqualTo(oneShot);
      for (byte[] v : values) {
        assertThat(oneShot).as("round %d", round).doesNotContain(new String(v, StandardCharsets.UTF_8).strip())
            .doesNotContain(Base64.getEncoder().withoutPadding().encodeToString(v));
      }
    }
  }

  private static byte[] randomText(Random r, int len, String alphabet) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < len; i++) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return b(sb.toString());
  }
}
