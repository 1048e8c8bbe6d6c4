package dev.nixek.ci.common.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class JobTokensTest {
  private final JobTokens tokens = new JobTokens(new byte[32]);

  @Test
  void tokenHasPrefixAnd256Bits() {
    String t = tokens.tokenFor("uid-1", 1);
    assertThat(t).startsWith("nxkjt_");
    assertThat(Base64.getUrlDecoder().decode(t.substring(JobTokens.PREFIX.length()))).hasSize(32);
    assertThat(JobTokens.looksLikeToken(t)).isTrue();
  }

  @Test
  void sameJobAndAttemptGiveTheSameTokenOthersDiffer() {
    assertThat(tokens.tokenFor("uid-1", 1)).isEqualTo(tokens.tokenFor("uid-1", 1));
    assertThat(tokens.tokenFor("uid-1", 2)).isNotEqualTo(tokens.tokenFor("uid-1", 1));
    assertThat(tokens.tokenFor("uid-2", 1)).isNotEqualTo(tokens.tokenFor("uid-1", 1));
    byte[] otherKey = new byte[32];
    otherKey[0] = 1;
    assertThat(new JobTokens(otherKey).tokenFor("uid-1", 1)).isNotEqualTo(tokens.tokenFor("uid-1", 1));
  }

  @Test
  void onlyTheRightTokenMatchesItsHash() {
    String t = tokens.tokenFor("uid-1", 1);
    String hash = JobTokens.sha256Hex(t);
    assertThat(hash).hasSize(64).doesNotContain(t);
    assertThat(JobTokens.matches(t, hash)).isTrue();
    assertThat(JobTokens.matches(tokens.tokenFor("uid-1", 2), hash)).isFalse();
    assertThat(JobTokens.matches(t + "x", hash)).isFalse();
    assertThat(JobTokens.matches(null, hash)).isFalse();
    assertThat(JobTokens.matches(t, "not-hex")).isFalse();
    assertThat(JobTokens.tokenId(hash)).hasSize(32).isEqualTo(hash.substring(0, 32));
  }

  @Test
  void shortKeysAreRefusedAndNewKeysAreRandom() {
    assertThatThrownBy(() -> new JobTokens(new byte[16])).hasMessageContaining("at least 32 bytes");
    assertThat(JobTokens.newKey()).hasSize(32).isNotEqualTo(JobTokens.newKey());
  }

  @Test
  void looksLikeTokenRejectsOtherStrings() {
    assertThat(JobTokens.looksLikeToken("Bearer x")).isFalse();
    assertThat(JobTokens.looksLikeToken("nxkjt_short")).isFalse();
    assertThat(JobTokens.looksLikeToken(null)).isFalse();
  }

  @Test
  void evaluationTokensAreAnotherPurposeThatNeverStandsInForAStepToken() {
    JobTokens tokens = new JobTokens(JobTokens.newKey());
    String eval = tokens.evaluationTokenFor("uid-1");
    assertThat(eval).startsWith("nxkev_").hasSize(6 + 43);
    assertThat(eval).isEqualTo(tokens.evaluationTokenFor("uid-1")).isNotEqualTo(tokens.evaluationTokenFor("uid-2"));
    assertThat(eval.substring(6)).isNotEqualTo(tokens.tokenFor("uid-1", 1).substring(6));
    assertThat(JobTokens.looksLikeToken(eval)).as("not a step token").isFalse();
    assertThat(JobTokens.looksLikeToken(eval, JobTokens.Purpose.EVALUATION)).isTrue();
    assertThat(JobTokens.looksLikeToken(tokens.tokenFor("uid-1", 1), JobTokens.Purpose.EVALUATION)).isFalse();
    assertThat(JobTokens.looksLikeAnyToken(eval)).isTrue();
    assertThat(JobTokens.mentionsToken("x nxkev_")).isTrue();
    assertThat(JobTokens.Purpose.ofLabel(null)).as("records from before purposes").isEqualTo(JobTokens.Purpose.STEPS);
    assertThat(JobTokens.Purpose.ofLabel("evaluation")).isEqualTo(JobTokens.Purpose.EVALUATION);
    assertThat(JobTokens.Purpose.ofLabel("admin")).isNull();
  }

  @Test
  void stepTokensAreDerivedAsBefore() throws Exception {
    // the derivation of step tokens must not change: a replayed launch must carry the same user-data
    byte[] key = new byte[32];
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
    String expected = "nxkjt_" + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
        mac.doFinal(("nixek-ci job token v1\0uid-1\0" + "3").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    assertThat(new JobTokens(key).tokenFor("uid-1", 3)).isEqualTo(expected);
  }
}
