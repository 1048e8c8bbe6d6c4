package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class NixErrorsTest {
  private static final String HINT = "@nix {\"action\":\"msg\",\"level\":0,\"msg\":\"(use '--show-trace' to show detailed "
      + "location information)\"}";

  @Test
  void theErrorIsNixsRawMessageWithItsPositionAndWithoutColours() {
    NixErrors e = new NixErrors(Map.of("/pod/job/job.nix", "spec.nix"));
    String shown = e.line("@nix {\"action\":\"msg\",\"column\":61,\"file\":\"/pod/job/job.nix\",\"level\":0,\"line\":3,"
        + "\"msg\":\"\\u001b[31;1merror:\\u001b[0m attribute '\\u001b[35;1mdoesNotExist\\u001b[0m' missing\\n\\n"
        + "       at /pod/job/job.nix:3:61\",\"raw_msg\":\"attribute '\\u001b[35;1mdoesNotExist\\u001b[0m' missing\"}");
    e.line(HINT);
    assertThat(e.error()).isEqualTo("attribute 'doesNotExist' missing (at spec.nix:3:61)");
    assertThat(shown).startsWith("error: attribute 'doesNotExist' missing").contains("at spec.nix:3:61")
        .doesNotContain("\u001b");
  }

  @Test
  void nix226sFileWithThePositionInItIsShownWithThePositionOnce() {
    NixErrors e = new NixErrors(Map.of("/pod/job/job.nix", "spec.nix"));
    e.line("@nix {\"action\":\"msg\",\"column\":44,\"file\":\"/pod/job/job.nix:3:44\",\"level\":0,\"line\":3,"
        + "\"msg\":\"error: syntax error\",\"raw_msg\":\"syntax error, unexpected '}', expecting ';'\"}");
    assertThat(e.error()).isEqualTo("syntax error, unexpected '}', expecting ';' (at spec.nix:3:44)");
    NixErrors noColumn = new NixErrors(Map.of());
    noColumn.line("@nix {\"action\":\"msg\",\"column\":0,\"file\":\"/j.nix:7\",\"level\":0,\"line\":7,"
        + "\"msg\":\"error: x\",\"raw_msg\":\"x\"}");
    assertThat(noColumn.error()).isEqualTo("x (at /j.nix:7)");
  }

  @Test
  void aFlakesStoreCopyIsShownRelativeToTheRepository() {
    NixErrors e = new NixErrors(Map.of());
    e.line("@nix {\"action\":\"msg\",\"column\":69,\"file\":\"/nix/store/7grpyi2vch55vifs3ci0kfwrbyx81lf9-source/ci/jobs.nix"
        + "\",\"level\":0,\"line\":1,\"msg\":\"error: undefined variable 'x'\",\"raw_msg\":\"undefined variable 'x'\"}");
    assertThat(e.error()).isEqualTo("undefined variable 'x' (at ci/jobs.nix:1:69)");
  }

  @Test
  void aMessageWithoutAPlaceIsTheRawMessageOnOneLine() {
    NixErrors e = new NixErrors(Map.of());
    e.line("@nix {\"action\":\"msg\",\"column\":null,\"file\":null,\"level\":0,\"line\":null,\"msg\":\"error:\\n"
        + "Failed assertions:\\n- x must not be root\",\"raw_msg\":\"\\nFailed assertions:\\n- x must not be root\"}");
    assertThat(e.error()).isEqualTo("Failed assertions: - x must not be root");
  }

  @Test
  void activitiesAreNotShownAndPlainOutputIsTheFallback() {
    NixErrors e = new NixErrors(Map.of());
    assertThat(e.line("@nix {\"action\":\"start\",\"id\":1,\"level\":4,\"text\":\"copying\",\"type\":0}")).isNull();
    assertThat(e.line("warning: Git tree '/src' is dirty")).isEqualTo("warning: Git tree '/src' is dirty");
    e.line("error: something went wrong");
    e.line(HINT);
    assertThat(e.error()).isEqualTo("warning: Git tree '/src' is dirty error: something went wrong");
  }

  @Test
  void theErrorIsBounded() {
    NixErrors e = new NixErrors(Map.of());
    e.line("@nix {\"action\":\"msg\",\"level\":0,\"msg\":\"x\",\"raw_msg\":\"" + "y".repeat(5000) + "\"}");
    assertThat(e.error()).hasSize(NixErrors.MAX_CHARS).endsWith("…");
  }

  @Test
  void nothingAtAllStillSaysSomething() {
    assertThat(new NixErrors(Map.of()).error()).isEqualTo("nix-instantiate failed without a message");
  }
}
