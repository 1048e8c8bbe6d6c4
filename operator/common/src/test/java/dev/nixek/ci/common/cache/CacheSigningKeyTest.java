package dev.nixek.ci.common.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

class CacheSigningKeyTest {
  // `nix key generate-secret --key-name test-vector-1` and `nix key convert-secret-to-public` (Nix 2.26.3); a key
  // made for this test only
  private static final String NIX_SECRET =
      "test-vector-1:cARqiXffZRfnwhO7Pcb1ATqGuxnrIzjtnkZ4DOoVe9v0OZJ0Xd//3KsjXOQTzUCt5MBdKO02ADF0jvRFx3iwHA==";
  private static final String NIX_PUBLIC = "test-vector-1:9DmSdF3f/9yrI1zkE81AreTAXSjtNgAxdI70Rcd4sBw=";

  @Test
  void aKeyNixMadeHasThePublicHalfNixGives() {
    CacheSigningKey key = CacheSigningKey.parse(NIX_SECRET);
    assertThat(key.publicKey()).isEqualTo(NIX_PUBLIC);
    assertThat(key.secret()).isEqualTo(NIX_SECRET);
    assertThat(key.name()).isEqualTo("test-vector-1");
  }

  @Test
  void aKeyFromNixsSeedHasThePublicHalfNixGives() {
    byte[] both = java.util.Base64.getDecoder().decode(NIX_SECRET.substring(NIX_SECRET.indexOf(':') + 1));
    CacheSigningKey key = CacheSigningKey.fromSeed("test-vector-1", java.util.Arrays.copyOf(both, 32));
    assertThat(key.publicKey()).isEqualTo(NIX_PUBLIC);
    assertThat(key.secret()).isEqualTo(NIX_SECRET);
    assertThatThrownBy(() -> CacheSigningKey.fromSeed("k", new byte[31])).hasMessageContaining("32 bytes, not 31");
  }

  @Test
  void aGeneratedKeyRoundTripsAndSigns() {
    CacheSigningKey key = CacheSigningKey.generate("nixek-c0ffee-tenant-a-1");
    CacheSigningKey again = CacheSigningKey.parse(key.secret());
    assertThat(again.publicKey()).isEqualTo(key.publicKey());
    String sig = key.sign("1;/nix/store/x;sha256:y;1;");
    assertThat(sig).startsWith("nixek-c0ffee-tenant-a-1:");
    assertThat(again.verify("1;/nix/store/x;sha256:y;1;", sig)).isTrue();
    assertThat(again.verify("1;/nix/store/x;sha256:y;2;", sig)).isFalse();
    assertThat(CacheSigningKey.generate("nixek-c0ffee-tenant-a-1").verify("1;/nix/store/x;sha256:y;1;", sig))
        .as("another key of the same name").isFalse();
  }

  @Test
  void malformedKeysAreRefusedWithoutEchoingThem() {
    assertThatThrownBy(() -> CacheSigningKey.parse("no-colon")).hasMessageContaining("'<name>:<base64>'");
    assertThatThrownBy(() -> CacheSigningKey.parse("k:%%%")).hasMessageContaining("not base64")
        .hasMessageNotContaining("%%%");
    assertThatThrownBy(() -> CacheSigningKey.parse("k:AAAA")).hasMessageContaining("64 bytes, not 3");
    String mismatched = NIX_SECRET.substring(0, NIX_SECRET.length() - 8) + "AAAAAA==";
    assertThatThrownBy(() -> CacheSigningKey.parse(mismatched)).hasMessageContaining("does not match")
        .hasMessageNotContaining(mismatched.substring(14));
    assertThatThrownBy(() -> CacheSigningKey.generate("bad:name")).hasMessageContaining("a cache key name");
    assertThat(CacheSigningKey.parse(NIX_SECRET).toString()).doesNotContain("cARqiX");
  }

  @Test
  void nixBase32MatchesNix() throws Exception {
    // `nix hash convert --to nix32` of the SHA-256 of nothing
    assertThat(NixBase32.encode(MessageDigest.getInstance("SHA-256").digest(new byte[0])))
        .isEqualTo("0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73");
    assertThat(NixBase32.encode("x".getBytes(StandardCharsets.UTF_8))).hasSize(2);
  }
}
