package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TerminationMessageTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shortFailureIsKeptWhole() throws Exception {
    String message = TerminationMessage.failure("build command exited with status 1", "error: boom\n");
    JsonNode json = JSON.readTree(message);
    assertThat(json.get("error").asText()).isEqualTo("build command exited with status 1");
    assertThat(json.get("logTail").asText()).isEqualTo("error: boom\n");
    assertThat(json.size()).isEqualTo(2);
  }

  @Test
  void hugeAsciiTailIsCutFromTheFrontToExactly4096Bytes() throws Exception {
    String tail = "line\n".repeat(200_000) + "the last line says why";
    String message = TerminationMessage.failure("failed", tail);
    byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
    assertThat(bytes.length).isEqualTo(4096);
    String kept = JSON.readTree(message).get("logTail").asText();
    assertThat(kept).startsWith(TerminationMessage.ELLIPSIS).endsWith("the last line says why");
    assertThat(tail).endsWith(kept.substring(TerminationMessage.ELLIPSIS.length()));
  }

  /** 2-, 3- and 4-byte characters (the last a surrogate pair in Java), shifted so every cut position occurs. */
  @ParameterizedTest
  @ValueSource(strings = {"é", "€", "日本", "😀", "a😀é€"})
  void multiByteTailsAreCutOnCharacterBoundaries(String unit) throws Exception {
    for (int shift = 0; shift < 4; shift++) {
      String tail = "x".repeat(shift) + unit.repeat(5000);
      String message = TerminationMessage.failure("failed", tail);
      byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
      assertThat(bytes.length).isLessThanOrEqualTo(4096).isGreaterThan(4096 - 8);
      strictUtf8(bytes);
      String kept = JSON.readTree(bytes).get("logTail").asText();
      String body = kept.substring(TerminationMessage.ELLIPSIS.length());
      assertThat(tail).endsWith(body);
      assertThat(body).doesNotContain("\uFFFD");
      assertThat(Character.isLowSurrogate(body.charAt(0))).isFalse();
    }
  }

  @Test
  void controlCharactersThatGrowWhenEscapedStillFit() throws Exception {
    // \u0001 becomes six bytes in JSON
    String tail = "\u0001\t\"\\".repeat(10_000);
    String message = TerminationMessage.failure("failed", tail);
    assertThat(message.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(4096).isGreaterThan(4096 - 8);
    assertThat(tail).endsWith(JSON.readTree(message).get("logTail").asText().substring(1));
  }

  @Test
  void errorIsOneLineAndBounded() throws Exception {
    String message = TerminationMessage.failure("first line\r\nsecond\tline\n\n" + "x".repeat(10_000), "tail");
    String error = JSON.readTree(message).get("error").asText();
    assertThat(error).doesNotContain("\n", "\r", "\t").startsWith("first line | second line | xxx");
    assertThat(error.length()).isLessThanOrEqualTo(TerminationMessage.MAX_ERROR_CHARS);
    assertThat(message.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(4096);
  }

  @Test
  void errorCutNeverSplitsASurrogatePair() throws Exception {
    for (int shift = 0; shift < 2; shift++) {
      String message = TerminationMessage.failure("e".repeat(shift) + "😀".repeat(2000), "");
      String error = JSON.readTree(message).get("error").asText();
      strictUtf8(message.getBytes(StandardCharsets.UTF_8));
      assertThat(error).endsWith(TerminationMessage.ELLIPSIS).doesNotContain("\uFFFD");
    }
  }

  @Test
  void successHasTheContractFieldsAndLeavesUnknownOnesOut() throws Exception {
    ImageResult result = new ImageResult("images-bucket", "images/abc-nixos/nixos.vhd", 1234L, "ab".repeat(32),
        "/nix/store/abc-nixos.drv", "/nix/store/def-nixos", DiskFormat.VHD, null, "x86_64-linux", "2.26.3",
        true);
    JsonNode json = JSON.readTree(TerminationMessage.success(result));
    assertThat(json.get("bucket").asText()).isEqualTo("images-bucket");
    assertThat(json.get("key").asText()).isEqualTo("images/abc-nixos/nixos.vhd");
    assertThat(json.get("size").asLong()).isEqualTo(1234L);
    assertThat(json.get("sha256").asText()).isEqualTo("ab".repeat(32));
    assertThat(json.get("drvPath").asText()).isEqualTo("/nix/store/abc-nixos.drv");
    assertThat(json.get("outPath").asText()).isEqualTo("/nix/store/def-nixos");
    assertThat(json.get("format").asText()).isEqualTo("VHD");
    assertThat(json.get("system").asText()).isEqualTo("x86_64-linux");
    assertThat(json.get("nixVersion").asText()).isEqualTo("2.26.3");
    assertThat(json.get("uploaded").asBoolean()).isTrue();
    assertThat(json.has("bootMode")).isFalse();
    List<String> names = new ArrayList<>();
    json.fieldNames().forEachRemaining(names::add);
    assertThat(names).containsExactly("bucket", "key", "size", "sha256", "drvPath", "outPath", "format", "system",
        "nixVersion", "uploaded");
  }

  private static void strictUtf8(byte[] bytes) throws CharacterCodingException {
    StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes));
  }
}
