package dev.nixek.ci.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SecretMaskTest {
  private static String through(SecretMask mask, int pieceSize, String text) {
    byte[] in = text.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < in.length; i += pieceSize) {
      out.writeBytes(mask.filter(in, i, Math.min(pieceSize, in.length - i)));
    }
    out.writeBytes(mask.flush());
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aSecretIsMaskedWhereverTheReadsSplitIt() {
    String text = "fatal: token s3cr3t-token rejected; again s3cr3t-token; a s3cr3t-tok prefix stays\n";
    for (int piece = 1; piece <= text.length(); piece++) {
      assertThat(through(new SecretMask(List.of("s3cr3t-token")), piece, text)).as("piece size %d", piece)
          .isEqualTo("fatal: token *** rejected; again ***; a s3cr3t-tok prefix stays\n");
    }
  }

  @Test
  void theLongestOfOverlappingSecretsIsMaskedWholeAndNoSecretsMeansNoChange() {
    assertThat(through(new SecretMask(List.of("abc", "abcdef")), 2, "xabcdefx abc")).isEqualTo("x***x ***");
    assertThat(through(new SecretMask(List.of()), 3, "unchanged text")).isEqualTo("unchanged text");
  }
}
