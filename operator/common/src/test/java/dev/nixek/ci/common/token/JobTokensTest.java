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
}
