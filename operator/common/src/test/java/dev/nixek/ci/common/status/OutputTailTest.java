package dev.nixek.ci.common.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.common.text.JsonSize;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class OutputTailTest {
  @Test
  void keepsTheLastBytes() {
    String tail = OutputTail.append(null, "hello ".getBytes(StandardCharsets.UTF_8), 8);
    tail = OutputTail.append(tail, "world".getBytes(StandardCharsets.UTF_8), 8);
    assertThat(tail).isEqualTo("lo world");
  }

  @Test
  void neverStartsInTheMiddleOfACharacter() {
    // "é" is 2 bytes, "€" 3: a cut at any byte must not leave a broken character at the start
    String text = "aé€é€é€";
    for (int limit = 1; limit <= text.getBytes(StandardCharsets.UTF_8).length; limit++) {
      String tail = OutputTail.append(null, text.getBytes(StandardCharsets.UTF_8), limit);
      assertThat(tail).doesNotContain("\uFFFD");
      assertThat(text).endsWith(tail);
      assertThat(tail.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(limit);
    }
  }

  @Test
  void invalidUtf8IsReplacedNotFatal() {
    String tail = OutputTail.append("ok ", new byte[] {(byte) 0xff, 'x'}, 100);
    assertThat(tail).isEqualTo("ok \uFFFDx");
  }

  @Test
  void controlCharactersAreStoredEscaped() {
    byte[] ansi = "\u001b]0;owned\u0007\u001b[2Jdone\r\n\u007f".getBytes(StandardCharsets.UTF_8);
    assertThat(OutputTail.append(null, ansi, 1000)).isEqualTo("\\x1b]0;owned\\x07\\x1b[2Jdone\\x0d\n\\x7f");
  }

  @Test
  void theLimitBoundsTheJsonEncodedTailWhateverTheContent() {
    for (char c : new char[] {'"', '\\', '\n', '<', '\u007f', '\u0001', 'a'}) {
      byte[] chunk = new byte[4096];
      Arrays.fill(chunk, (byte) c);
      String tail = null;
      for (int i = 0; i < 3; i++) {
        tail = OutputTail.append(tail, chunk, 1000);
        assertThat(JsonSize.of(tail)).as("tail of %s", (int) c).isLessThanOrEqualTo(1000).isGreaterThan(990);
      }
    }
  }

  @Test
  void perStepLimitShrinksWithManyStepsButNotBelowTheFloor() {
    assertThat(OutputTail.limitFor(3, 4096, 131072)).isEqualTo(4096);
    assertThat(OutputTail.limitFor(100, 4096, 131072)).isEqualTo(1310);
    assertThat(OutputTail.limitFor(1000, 4096, 131072)).isEqualTo(256);
    assertThat(OutputTail.limitFor(1000, 100, 131072)).isEqualTo(100);
  }
}
