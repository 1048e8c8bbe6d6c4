package dev.nixek.ci.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.operator.config.CacheOptions;
import dev.nixek.ci.operator.config.OperatorConfig;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CachePodSettingsTest {
  @Test
  void podsGetTheDomainsViewItsKeyAndANetrc() {
    CachePodSettings s = CachePodSettings.of(URI.create("http://nixek-report.nixek-system.svc:8080/v1/cache/"),
        "tenant-a", "nixek-c0ffee-tenant-a-1:AAAA", "nxkc_1_x");
    assertThat(s.nixConfigLines()).containsExactly(
        "extra-substituters = http://nixek-report.nixek-system.svc:8080/v1/cache/tenant-a",
        "extra-trusted-public-keys = nixek-c0ffee-tenant-a-1:AAAA",
        "netrc-file = /nixek/cache/netrc");
    assertThat(s.netrc()).isEqualTo("machine nixek-report.nixek-system.svc\nlogin nixek\npassword nxkc_1_x\n");
    assertThat(CachePodSettings.of(URI.create("https://cache.example"), "*", "k:A", "t").substituter().toString())
        .matches("https://cache.example/h-[0-9a-f]{32}");
  }

  @Test
  void optionsAreOnWhenThereIsABucketAndNeedABucketWhenOn() {
    assertThat(CacheOptions.fromEnv(Map.of())).isEqualTo(new CacheOptions(false, "", "nixek-cache",
        Optional.empty(), "nixek-ci-cache-key"));
    assertThat(CacheOptions.fromEnv(Map.of("NIXEK_IMAGE_BUCKET", "images")).enabled()).isTrue();
    assertThat(CacheOptions.fromEnv(Map.of("NIXEK_CACHE_BUCKET", "cache")).enabled()).isTrue();
    assertThat(CacheOptions.fromEnv(Map.of("NIXEK_CACHE_ENABLED", "false", "NIXEK_IMAGE_BUCKET", "images"))
        .enabled()).isFalse();
    assertThatThrownBy(() -> CacheOptions.fromEnv(Map.of("NIXEK_CACHE_ENABLED", "yes")))
        .hasMessageContaining("NIXEK_CACHE_ENABLED");
    assertThat(CacheOptions.fromEnv(Map.of("NIXEK_CACHE_ENABLED", "true", "NIXEK_IMAGE_BUCKET", "images"))
        .bucketOr("images")).isEqualTo("images");
    assertThatThrownBy(() -> CacheOptions.fromEnv(Map.of("NIXEK_CACHE_ENABLED", "true")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("NIXEK_CACHE_BUCKET");
    assertThatThrownBy(() -> CacheOptions.fromEnv(Map.of("NIXEK_CACHE_KEY_PREFIX", "/x/")))
        .hasMessageContaining("NIXEK_CACHE_KEY_PREFIX");
    assertThat(OperatorConfig.OPTIONS).containsAll(CacheOptions.OPTIONS);
  }
}
