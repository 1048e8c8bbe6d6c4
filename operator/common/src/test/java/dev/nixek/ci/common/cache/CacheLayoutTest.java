package dev.nixek.ci.common.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class CacheLayoutTest {
  private final CacheLayout layout = new CacheLayout("nixek-cache", "c0ffee");

  @Test
  void aNamespaceIsItsOwnSegmentAndAnythingElseIsHashed() {
    assertThat(layout.root("tenant-a")).isEqualTo("nixek-cache/c0ffee/tenant-a/");
    assertThat(CacheLayout.segment("../tenant-a")).matches("h-[0-9a-f]{32}");
    assertThat(CacheLayout.segment("Tenant")).matches("h-[0-9a-f]{32}");
    // a domain cannot take the form of another's hashed segment
    String hashed = CacheLayout.segment("*");
    assertThat(CacheLayout.segment(hashed)).isNotEqualTo(hashed);
    assertThatThrownBy(() -> CacheLayout.segment("")).hasMessageContaining("not empty");
    assertThat(layout.keyName("tenant-a")).isEqualTo("nixek-c0ffee-tenant-a-1");
  }

  @Test
  void onlyTheFilesOfANixCacheReachS3() {
    String hash = "s9yngwqykn4w1p7ld76pn4fx8b05hb0a";
    String nar = "nar/1g88s1h4mjs2997w0y30fqgs4s1y0scncabi6fark0x2whnrj6s2.nar.xz";
    assertThat(layout.objectKey("tenant-a", hash + ".narinfo")).contains("nixek-cache/c0ffee/tenant-a/" + hash
        + ".narinfo");
    assertThat(layout.objectKey("tenant-a", nar)).contains("nixek-cache/c0ffee/tenant-a/" + nar);
    assertThat(layout.objectKey("tenant-a", "../tenant-b/" + hash + ".narinfo")).isEmpty();
    assertThat(layout.objectKey("tenant-a", "staging/x.zip")).isEmpty();
    assertThat(layout.objectKey("tenant-a", "")).isEmpty();
    assertThat(layout.objectKey("..", hash + ".narinfo")).as("a segment is a DNS label or h-<hash>").isEmpty();
    String hashed = CacheLayout.segment("*");
    assertThat(layout.objectKey(hashed, hash + ".narinfo")).contains(layout.root("*") + hash + ".narinfo");
    assertThat(layout.objectKey("tenant-a", "nar/" + hash + ".nar")).as("a NAR is named by a 52-char hash").isEmpty();
  }

  @Test
  void readTokensReadOneDomainUntilTheyExpire() {
    CacheReadTokens tokens = new CacheReadTokens(new byte[32]);
    Instant now = Instant.parse("2026-12-07T18:00:00Z");
    String token = tokens.mint("tenant-a", now.plusSeconds(600));
    assertThat(tokens.allows(token, "tenant-a", now)).isTrue();
    assertThat(tokens.allows(token, "tenant-b", now)).isFalse();
    assertThat(tokens.allows(token, "tenant-a", now.plusSeconds(600))).isFalse();
    assertThat(new CacheReadTokens(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
        20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}).allows(token, "tenant-a", now)).isFalse();
    // the expiry is part of what is signed
    String later = token.replaceFirst("_(\\d+)_", "_" + now.plusSeconds(99999).getEpochSecond() + "_");
    assertThat(tokens.allows(later, "tenant-a", now)).isFalse();
    assertThat(tokens.allows(null, "tenant-a", now)).isFalse();
    assertThat(tokens.allows("nxkc_x_y", "tenant-a", now)).isFalse();
    String basic = "Basic " + java.util.Base64.getEncoder().encodeToString(("nixek:" + token).getBytes());
    assertThat(CacheReadTokens.fromBasicAuth(basic)).contains(token);
    assertThat(CacheReadTokens.fromBasicAuth("Bearer " + token)).isEmpty();
    assertThat(CacheReadTokens.netrc("report.nixek", token)).isEqualTo("machine report.nixek\nlogin nixek\npassword "
        + token + "\n");
    assertThatThrownBy(() -> new CacheReadTokens(new byte[16])).hasMessageContaining("at least 32 bytes");
    CacheReadTokens derived = CacheReadTokens.derivedFrom(new byte[32]);
    assertThat(derived.allows(token, "tenant-a", now)).as("a derived key is not the shared key").isFalse();
    assertThat(CacheReadTokens.derivedFrom(new byte[32]).allows(derived.mint("tenant-a", now.plusSeconds(9)),
        "tenant-a", now)).isTrue();
  }
}
