package dev.nixek.ci.common.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutputTailTest {
  @Test
  void keepsTheLastBytes() {
    String tail = OutputTail.append(null, "hello ".getBytes(StandardCharsets.UTF_8), 8);
    tail = OutputTail.append(tail, "world\n".getBytes(StandardCharsets.UTF_8), 8);
    assertThat(tail).isEqualTo("o world\n".substring(0, 8));
    assertThat(tail.getBytes(StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(8);
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
  void perStepLimitShrinksWithManyStepsButNotBelowTheFloor() {
    assertThat(OutputTail.limitFor(3, 4096, 131072)).isEqualTo(4096);
    assertThat(OutputTail.limitFor(100, 4096, 131072)).isEqualTo(1310);
    assertThat(OutputTail.limitFor(1000, 4096, 131072)).isEqualTo(256);
    assertThat(OutputTail.limitFor(1000, 100, 131072)).isEqualTo(100);
  }
}
