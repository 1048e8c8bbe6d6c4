package dev.nixek.ci.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.protocol.AgentConfig;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigParserTest {
  private static final String TOKEN = "nxk_0123456789abcdef0123456789abcdef";

  private static AgentConfig parse(String json) throws UsageException {
    return ConfigParser.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  private static String doc(String reportUrl, String token, String steps) {
    return "{\"version\":\"nixek.dev/agent-config/v1\",\"jobUid\":\"u1\",\"namespace\":\"ci\",\"name\":\"job-1\","
        + "\"reportUrl\":\"" + reportUrl + "\",\"token\":\"" + token + "\",\"steps\":" + steps + "}";
  }

  @Test
  void aValidConfig() throws Exception {
    AgentConfig c = parse(doc("http://10.0.0.1:8080", TOKEN,
        "[{\"name\":\"build\",\"run\":\"cargo build\",\"timeoutSeconds\":60},"
            + "{\"name\":\"test\",\"command\":[\"cargo\",\"test\"],\"env\":{\"RUST_LOG\":\"debug\"}}]"));
    assertThat(c.steps()).hasSize(2);
    assertThat(c.steps().get(0).argv()).containsExactly("/bin/sh", "-c", "cargo build");
    assertThat(c.steps().get(1).argv()).containsExactly("cargo", "test");
    assertThat(c.toString()).doesNotContain(TOKEN);
  }

  @Test
  void invalidConfigsAreRefusedWithAReason() {
    String ok = "http://api:8080";
    List.of(
        List.of(doc(ok, TOKEN, "[]").replace("/v1\"", "/v9\""), "version must be"),
        List.of(doc(ok, "", "[]"), "token is missing"),
        List.of(doc(ok, "a b", "[]"), "token is missing or not printable"),
        List.of(doc("ftp://x", TOKEN, "[]"), "reportUrl must be"),
        List.of(doc("http://user:secret@api", TOKEN, "[]"), "without user-info"),
        List.of(doc(ok, TOKEN, "[]").replace("\"ci\"", "\"../etc\""), "namespace must be"),
        List.of(doc(ok, TOKEN, "[{\"name\":\"x\"}]"), "exactly one of run and command"),
        List.of(doc(ok, TOKEN, "[{\"name\":\"x\",\"run\":\"a\",\"command\":[\"b\"]}]"), "exactly one of"),
        List.of(doc(ok, TOKEN, "[{\"name\":\"x\",\"command\":[]}]"), "command must not be empty"),
        List.of(doc(ok, TOKEN, "[{\"run\":\"a\"}]"), "has no name"),
        List.of(doc(ok, TOKEN, "[{\"name\":\"x\",\"run\":\"a\",\"timeoutSeconds\":0}]"), "must be positive"),
        List.of(doc(ok, TOKEN, "[{\"name\":\"x\",\"run\":\"a\",\"env\":{\"A=B\":\"c\"}}]"), "invalid env"),
        List.of(doc(ok, TOKEN, "[]").replace("\"jobUid\"", "\"extra\":1,\"jobUid\""), "does not match"),
        List.of("[1,2]", "not a JSON object"),
        List.of("{\"token\":", "not valid JSON")
    ).forEach(c -> assertThatThrownBy(() -> parse(c.get(0))).as(c.get(0))
        .isInstanceOf(UsageException.class).hasMessageContaining(c.get(1)));
  }

  @Test
  void errorsNeverQuoteTheToken() {
    // a syntax error right inside the token, and a mapping error whose message quotes a value
    assertThatThrownBy(() -> parse("{\"token\": " + TOKEN + "}")).message().doesNotContain(TOKEN)
        .doesNotContain("0123456789abcdef");
    assertThatThrownBy(() -> parse(doc("http://a", TOKEN, "\"" + TOKEN + "\""))).message()
        .contains("does not match").doesNotContain(TOKEN);
  }
}
