package dev.nixek.ci.common.cache;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Read tokens of a trust domain's cache: {@code nxkc_<expiry seconds>_<HMAC-SHA256 of domain and expiry>} (the domain
 * as the view's URL names it: its {@link CacheLayout#segment segment}) under a key
 * the operator (which mints them for its pods) and the cache's server (which checks them) share. A token reads one
 * domain's cache until it expires and does nothing else; pods get it as the password of a netrc entry, the way Nix
 * authenticates to an {@code http://} substituter.
 */
public final class CacheReadTokens {
  static final String PREFIX = "nxkc_";
  private static final String LABEL = "nixek-ci cache read v1\0";
  /** The label of the read key derived from the shared (seal) key. */
  static final String DERIVATION_LABEL = "nixek-ci cache read key v1";

  private final byte[] key;

  public CacheReadTokens(byte[] key) {
    if (key.length < 32) {
      throw new IllegalArgumentException("a cache read key has at least 32 bytes");
    }
    this.key = key.clone();
  }

  /**
   * Tokens under a key derived from one the operator and the report API already share (the seal key): its own
   * label, so a read token is never a MAC anything else accepts, and no new Secret to distribute.
   */
  public static CacheReadTokens derivedFrom(byte[] sharedKey) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(sharedKey, "HmacSHA256"));
      return new CacheReadTokens(mac.doFinal(DERIVATION_LABEL.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The tokens under the key derived from the seal key the operator and the report API share. */
  public static CacheReadTokens of(dev.nixek.ci.common.seal.Sealer sealer) {
    return new CacheReadTokens(sealer.derive(DERIVATION_LABEL));
  }

  public String mint(String trustDomain, Instant expiry) {
    long seconds = expiry.getEpochSecond();
    return PREFIX + seconds + "_" + mac(trustDomain, seconds);
  }

  /** Whether {@code token} reads {@code trustDomain}'s cache at {@code now}. */
  public boolean allows(String token, String trustDomain, Instant now) {
    if (token == null || !token.startsWith(PREFIX)) {
      return false;
    }
    String rest = token.substring(PREFIX.length());
    int sep = rest.indexOf('_');
    if (sep <= 0 || sep > 19 || !rest.substring(0, sep).chars().allMatch(Character::isDigit)) {
      return false;
    }
    long seconds = Long.parseLong(rest.substring(0, sep));
    if (now.getEpochSecond() >= seconds) {
      return false;
    }
    return MessageDigest.isEqual(mac(trustDomain, seconds).getBytes(StandardCharsets.US_ASCII),
        rest.substring(sep + 1).getBytes(StandardCharsets.US_ASCII));
  }

  /** The token of an HTTP {@code Authorization: Basic ...} header (any user name), as Nix sends a netrc entry. */
  public static Optional<String> fromBasicAuth(String header) {
    if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return Optional.empty();
    }
    try {
      String pair = new String(Base64.getDecoder().decode(header.substring(6).strip()), StandardCharsets.UTF_8);
      int colon = pair.indexOf(':');
      return colon < 0 ? Optional.empty() : Optional.of(pair.substring(colon + 1));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** A netrc file's text that gives Nix the token for {@code host}. */
  public static String netrc(String host, String token) {
    return "machine " + host + "\nlogin nixek\npassword " + token + "\n";
  }

  private String mac(String trustDomain, long seconds) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      byte[] out = mac.doFinal((LABEL + trustDomain + "\0" + seconds).getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
