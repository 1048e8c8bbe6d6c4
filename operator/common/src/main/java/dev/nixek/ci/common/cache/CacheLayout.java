package dev.nixek.ci.common.cache;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where a trust domain's binary cache lives and what it is called: the S3 prefix
 * {@code <prefix>/<cluster id>/<domain>/}, the Secret that keeps its signing key and the key's name. The trust
 * domain is the string the operator's trust-domain seam gives (the namespace by default, one string for the whole
 * cluster when so configured); one that is not a plain lower-case name is written as its hash, so no domain can
 * name another's prefix.
 *
 * @param keyPrefix the S3 key prefix of every cache ({@code NIXEK_CACHE_KEY_PREFIX})
 * @param clusterId this installation's cluster id (two clusters sharing a bucket never share a cache)
 */
public record CacheLayout(String keyPrefix, String clusterId) {
  /** What the cache says of itself; served as is, never read from S3. */
  public static final String CACHE_INFO = "StoreDir: " + NarInfo.STORE_DIR + "\nWantMassQuery: 1\nPriority: 30\n";

  private static final Pattern PLAIN = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern SEGMENT = Pattern.compile("h-[0-9a-f]{32}|" + PLAIN.pattern());
  private static final Pattern NARINFO = Pattern.compile("[0-9a-df-np-sv-z]{32}\\.narinfo");
  private static final Pattern NAR = Pattern.compile("nar/[0-9a-df-np-sv-z]{52}\\.nar(\\.xz|\\.zst|\\.bz2)?");

  public CacheLayout {
    if (keyPrefix.isEmpty() || keyPrefix.startsWith("/") || keyPrefix.endsWith("/")) {
      throw new IllegalArgumentException("a cache key prefix has no leading or trailing '/': " + keyPrefix);
    }
  }

  /** The path segment of a trust domain: the domain itself when it is a DNS label, else {@code h-<hash>}. */
  public static String segment(String trustDomain) {
    if (trustDomain == null || trustDomain.isEmpty()) {
      throw new IllegalArgumentException("a trust domain is not empty");
    }
    return PLAIN.matcher(trustDomain).matches() && !trustDomain.startsWith("h-") ? trustDomain
        : "h-" + hash(trustDomain).substring(0, 32);
  }

  /** The domain's cache root in the bucket, ending in '/'. */
  public String root(String trustDomain) {
    return keyPrefix + "/" + clusterId + "/" + segment(trustDomain) + "/";
  }

  /**
   * The S3 key of a file of a domain's cache, named by the domain's {@link #segment} as the view's URLs name it, if
   * {@code segment} is one and {@code path} is a file a Nix cache serves; else empty.
   */
  public Optional<String> objectKey(String segment, String path) {
    boolean isSegment = SEGMENT.matcher(segment).matches();
    if (isSegment && (NARINFO.matcher(path).matches() || NAR.matcher(path).matches())) {
      return Optional.of(keyPrefix + "/" + clusterId + "/" + segment + "/" + path);
    }
    return Optional.empty();
  }

  /**
   * The key of a build's unsigned bundle under the domain's {@code staging/} (never served: the view answers cache
   * files only), {@code name} a DNS label the operator picks per upload.
   */
  public String stagingKey(String trustDomain, String name) {
    if (!PLAIN.matcher(name).matches()) {
      throw new IllegalArgumentException("a staging name is a DNS label: " + name);
    }
    return root(trustDomain) + "staging/" + name + ".zip";
  }

  /** The signing key's name, which Nix shows in its messages and {@code trusted-public-keys} lists. */
  public String keyName(String trustDomain) {
    return "nixek-" + clusterId + "-" + segment(trustDomain) + "-1";
  }

  private static String hash(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
