package dev.nixek.ci.common.cache;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * A binary cache signing key in Nix's format: Ed25519, written {@code <name>:<base64 of seed and public key>} (what
 * {@code nix key generate-secret} prints), its public half {@code <name>:<base64 of 32 bytes>} (what
 * {@code trusted-public-keys} takes). The JDK's Ed25519 signs exactly as libsodium does, so Nix verifies what this
 * signs.
 */
public final class CacheSigningKey {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private final String name;
  private final byte[] seed;
  private final byte[] publicKey;

  private CacheSigningKey(String name, byte[] seed, byte[] publicKey) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("a cache key name is letters, digits, '.', '_' and '-' (at most 128): "
          + name);
    }
    this.name = name;
    this.seed = seed.clone();
    this.publicKey = publicKey.clone();
  }

  /** A new random key named {@code name} (by convention a host name and a number: {@code cache.example-1}). */
  public static CacheSigningKey generate(String name) {
    try {
      KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
      byte[] seed = ((EdECPrivateKey) pair.getPrivate()).getBytes().orElseThrow();
      return new CacheSigningKey(name, seed, encode(((EdECPublicKey) pair.getPublic()).getPoint()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 is not available", e);
    }
  }

  /**
   * The key of {@code name} whose 32-byte Ed25519 seed is {@code seed} (e.g. derived from a master key): the same
   * seed gives the same key, every time and in every replica.
   */
  public static CacheSigningKey fromSeed(String name, byte[] seed) {
    if (seed.length != 32) {
      throw new IllegalArgumentException("an Ed25519 seed is 32 bytes, not " + seed.length);
    }
    try {
      // the JDK's Ed25519 generator takes its private key, the seed, as the next 32 bytes of its random source
      KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
      generator.initialize(NamedParameterSpec.ED25519, new FixedBytes(seed));
      KeyPair pair = generator.generateKeyPair();
      byte[] used = ((EdECPrivateKey) pair.getPrivate()).getBytes().orElseThrow();
      if (!Arrays.equals(used, seed)) {
        throw new IllegalStateException("this JDK's Ed25519 generator did not take the seed as its private key");
      }
      return new CacheSigningKey(name, seed, encode(((EdECPublicKey) pair.getPublic()).getPoint()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 is not available", e);
    }
  }

  /** A random source that hands out one given run of bytes, once. */
  private static final class FixedBytes extends java.security.SecureRandom {
    private static final long serialVersionUID = 1L;
    private final byte[] bytes;
    private int used;

    FixedBytes(byte[] bytes) {
      this.bytes = bytes.clone();
    }

    @Override
    public void nextBytes(byte[] out) {
      if (used + out.length > bytes.length) {
        throw new IllegalStateException("asked for more than the seed");
      }
      System.arraycopy(bytes, used, out, 0, out.length);
      used += out.length;
    }
  }

  /** A secret key as Nix writes it; the message never holds the key. */
  public static CacheSigningKey parse(String secret) {
    String s = secret.strip();
    int colon = s.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("a cache signing key is '<name>:<base64>'");
    }
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(s.substring(colon + 1));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("a cache signing key's secret part is not base64");
    }
    if (bytes.length != 64) {
      throw new IllegalArgumentException("a cache signing key's secret part is 64 bytes, not " + bytes.length);
    }
    CacheSigningKey key = new CacheSigningKey(s.substring(0, colon), Arrays.copyOf(bytes, 32),
        Arrays.copyOfRange(bytes, 32, 64));
    if (!key.verify("nixek-ci key check", key.sign("nixek-ci key check"))) {
      throw new IllegalArgumentException("a cache signing key's public half does not match its seed");
    }
    return key;
  }

  public String name() {
    return name;
  }

  /** The secret key in Nix's format (for the Secret that keeps it). */
  public String secret() {
    byte[] both = new byte[64];
    System.arraycopy(seed, 0, both, 0, 32);
    System.arraycopy(publicKey, 0, both, 32, 32);
    return name + ":" + Base64.getEncoder().encodeToString(both);
  }

  /** The public key as {@code trusted-public-keys} takes it. */
  public String publicKey() {
    return name + ":" + Base64.getEncoder().encodeToString(publicKey);
  }

  /** A narinfo {@code Sig} value: {@code <name>:<base64 signature of the fingerprint>}. */
  public String sign(String fingerprint) {
    try {
      Signature signer = Signature.getInstance("Ed25519");
      signer.initSign(KeyFactory.getInstance("Ed25519")
          .generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, seed)));
      signer.update(fingerprint.getBytes(StandardCharsets.UTF_8));
      return name + ":" + Base64.getEncoder().encodeToString(signer.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with Ed25519", e);
    }
  }

  /** Whether {@code sig} (a {@code Sig} value) is this key's signature of {@code fingerprint}. */
  public boolean verify(String fingerprint, String sig) {
    if (!sig.startsWith(name + ":")) {
      return false;
    }
    try {
      Signature verifier = Signature.getInstance("Ed25519");
      verifier.initVerify(decode(publicKey));
      verifier.update(fingerprint.getBytes(StandardCharsets.UTF_8));
      return verifier.verify(Base64.getDecoder().decode(sig.substring(name.length() + 1)));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "CacheSigningKey[" + publicKey() + "]";
  }

  // RFC 8032: y little-endian, the top bit of the last byte the parity of x
  private static byte[] encode(EdECPoint point) {
    byte[] y = point.getY().toByteArray();
    byte[] out = new byte[32];
    for (int i = 0; i < y.length && i < 32; i++) {
      out[i] = y[y.length - 1 - i];
    }
    if (point.isXOdd()) {
      out[31] |= (byte) 0x80;
    }
    return out;
  }

  private static PublicKey decode(byte[] encoded) throws GeneralSecurityException {
    byte[] be = new byte[32];
    for (int i = 0; i < 32; i++) {
      be[i] = encoded[31 - i];
    }
    boolean xOdd = (be[0] & 0x80) != 0;
    be[0] &= 0x7f;
    EdECPoint point = new EdECPoint(xOdd, new BigInteger(1, be));
    return KeyFactory.getInstance("Ed25519").generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519, point));
  }
}
