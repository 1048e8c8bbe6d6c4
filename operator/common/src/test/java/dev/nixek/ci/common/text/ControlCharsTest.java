package dev.nixek.ci.common.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ControlCharsTest {
  @Test
  void escapesC0DelAndC1ButKeepsLinesAndTabs() {
    assertThat(ControlChars.escape("\u001b]0;owned\u0007\u001b[2J ok\n\tnext\r\u007f\u009b31m\u0000"))
        .isEqualTo("\\x1b]0;owned\\x07\\x1b[2J ok\n\tnext\\x0d\\x7f\\u009b31m\\x00");
  }

  @Test
  void everyControlCharacterIsEscapedAndNothingElseIs() {
    for (char c = 0; c < 0x200; c++) {
      String escaped = ControlChars.escape(String.valueOf(c));
      boolean control = c < 0x20 && c != '\n' && c != '\t' || c >= 0x7f && c <= 0x9f;
      assertThat(escaped).as("U+%04X", (int) c).isEqualTo(control ? escapedForm(c) : String.valueOf(c));
      assertThat(escaped.chars().filter(ch -> ControlChars.isControl((char) ch) && ch != '\n' && ch != '\t'))
          .isEmpty();
    }
  }

  private static String escapedForm(char c) {
    return c <= 0x7f ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c);
  }

  @Test
  void escapeAllMakesOneLine() {
    assertThat(ControlChars.escapeAll("a\nforged INFO line\r\tb")).isEqualTo("a\\x0aforged INFO line\\x0d\\x09b");
  }

  @Test
  void cleanTextIsReturnedAsIsAndNullStaysNull() {
    String clean = "héllo € \uD83D\uDE00 \\x1b";
    assertThat(ControlChars.escape(clean)).isSameAs(clean);
    assertThat(ControlChars.escape(null)).isNull();
  }

  @Test
  void jsonSizeCountsTheEncodedForm() {
    assertThat(JsonSize.of("abc")).isEqualTo(3);
    assertThat(JsonSize.of("\"\\\n\t")).isEqualTo(8);
    assertThat(JsonSize.of("<>&")).isEqualTo(18);
    assertThat(JsonSize.of("\u0001")).isEqualTo(6);
    assertThat(JsonSize.of("é€\uD83D\uDE00")).isEqualTo(2 + 3 + 4);
    assertThat(JsonSize.of("\u2028")).isEqualTo(6);
    assertThat(JsonSize.of((String) null)).isZero();
  }
}
