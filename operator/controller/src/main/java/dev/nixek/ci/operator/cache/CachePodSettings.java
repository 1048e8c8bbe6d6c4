package dev.nixek.ci.operator.cache;

import dev.nixek.ci.common.cache.CacheLayout;
import dev.nixek.ci.common.cache.CacheReadTokens;
import java.net.URI;
import java.util.List;

/**
 * What a builder or evaluation pod of a trust domain is told about its cache: Nix settings (to append to the pod's
 * {@code NIX_CONFIG}, beside whatever else sets it) naming the domain's read-only view as an extra substituter and
 * the domain's public key as the only extra trusted key, and the netrc text carrying the pod's read token. A cache
 * signed with any other key is ignored by Nix ("not signed by any of the keys in 'trusted-public-keys'").
 *
 * @param substituter the domain's view, {@code <cache url>/<domain segment>}
 * @param publicKey the domain's public key
 * @param netrc the netrc file's text (its token reads this domain's cache until the pod's deadline)
 */
public record CachePodSettings(URI substituter, String publicKey, String netrc) {
  /** Where the pod's netrc file is written; Nix reads it for the substituter's password. */
  public static final String NETRC_PATH = "/nixek/cache/netrc";

  public static CachePodSettings of(URI cacheUrl, String trustDomain, String publicKey, String token) {
    String base = cacheUrl.toString().replaceAll("/+$", "");
    URI substituter = URI.create(base + "/" + CacheLayout.segment(trustDomain));
    return new CachePodSettings(substituter, publicKey, CacheReadTokens.netrc(substituter.getHost(), token));
  }

  /** Lines for {@code NIX_CONFIG}: the public caches Nix already has stay; this one is added. */
  public List<String> nixConfigLines() {
    return List.of("extra-substituters = " + substituter, "extra-trusted-public-keys = " + publicKey,
        "netrc-file = " + NETRC_PATH);
  }
}
