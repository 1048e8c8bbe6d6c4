package dev.nixek.ci.common.cache;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One {@code <hash>.narinfo} of a Nix binary cache: what the publisher reads from a build's unsigned cache, checks and
 * signs. Parsing is strict (a field Nix needs missing, a malformed store path or hash is refused with the field's
 * name) because the text comes from a pod that ran the user's Nix code.
 *
 * @param storePath the full store path ({@code /nix/store/<32 base-32>-<name>})
 * @param url the NAR file, relative to the cache ({@code nar/<file hash>.nar[.xz|.zst|.bz2]})
 * @param compression {@code none}, {@code xz}, {@code zstd} or {@code bzip2}
 * @param fileHash {@code sha256:<base-32>} of the NAR file as stored
 * @param fileSize its size in bytes
 * @param narHash {@code sha256:<base-32>} of the uncompressed NAR (Nix checks it when it substitutes)
 * @param narSize the uncompressed NAR's size
 * @param references the store paths it references, as base names ({@code <hash>-<name>})
 * @param deriver the deriver's base name, or null
 * @param signatures {@code Sig} lines ({@code <key name>:<base64>})
 */
public record NarInfo(String storePath, String url, String compression, String fileHash, long fileSize,
    String narHash, long narSize, List<String> references, String deriver, List<String> signatures) {

  public static final String STORE_DIR = "/nix/store";
  private static final String NAME = "[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\\-._?=]{1,211}";
  private static final Pattern BASE_NAME = Pattern.compile(NAME);
  private static final Pattern STORE_PATH = Pattern.compile(Pattern.quote(STORE_DIR) + "/" + NAME);
  private static final Pattern SHA256 = Pattern.compile("sha256:[0-9a-df-np-sv-z]{52}");
  private static final Pattern NAR_URL = Pattern.compile("nar/[0-9a-df-np-sv-z]{52}\\.nar(\\.xz|\\.zst|\\.bz2)?");
  private static final List<String> COMPRESSIONS = List.of("none", "xz", "zstd", "bzip2");

  public NarInfo {
    references = List.copyOf(references);
    signatures = List.copyOf(signatures);
  }

  /** The 32-character hash part of the store path: the narinfo's name in the cache is {@code <hash>.narinfo}. */
  public String hashPart() {
    return storePath.substring(STORE_DIR.length() + 1, STORE_DIR.length() + 33);
  }

  /** What a signature signs (Nix's {@code ValidPathInfo::fingerprint}). */
  public String fingerprint() {
    List<String> refs = references.stream().map(r -> STORE_DIR + "/" + r).toList();
    return "1;" + storePath + ";" + narHash + ";" + narSize + ";" + String.join(",", refs);
  }

  public NarInfo withSignatures(List<String> sigs) {
    return new NarInfo(storePath, url, compression, fileHash, fileSize, narHash, narSize, references, deriver, sigs);
  }

  public String render() {
    StringBuilder s = new StringBuilder();
    s.append("StorePath: ").append(storePath).append('\n');
    s.append("URL: ").append(url).append('\n');
    s.append("Compression: ").append(compression).append('\n');
    s.append("FileHash: ").append(fileHash).append('\n');
    s.append("FileSize: ").append(fileSize).append('\n');
    s.append("NarHash: ").append(narHash).append('\n');
    s.append("NarSize: ").append(narSize).append('\n');
    s.append("References: ").append(String.join(" ", references)).append('\n');
    if (deriver != null) {
      s.append("Deriver: ").append(deriver).append('\n');
    }
    for (String sig : signatures) {
      s.append("Sig: ").append(sig).append('\n');
    }
    return s.toString();
  }

  public static NarInfo parse(byte[] bytes) {
    if (bytes.length > 1024 * 1024) {
      throw new IllegalArgumentException("narinfo is larger than 1 MiB");
    }
    Map<String, String> fields = new LinkedHashMap<>();
    List<String> sigs = new ArrayList<>();
    for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      int colon = line.indexOf(": ");
      if (colon <= 0) {
        throw new IllegalArgumentException("narinfo line is not 'Field: value': " + quote(line));
      }
      String key = line.substring(0, colon);
      String value = line.substring(colon + 2);
      if (key.equals("Sig")) {
        sigs.add(value);
      } else if (fields.putIfAbsent(key, value) != null) {
        throw new IllegalArgumentException("narinfo has two '" + key + "' fields");
      }
    }
    String storePath = required(fields, "StorePath", STORE_PATH);
    String url = required(fields, "URL", NAR_URL);
    String compression = fields.getOrDefault("Compression", "bzip2");
    if (!COMPRESSIONS.contains(compression)) {
      throw new IllegalArgumentException("narinfo Compression is not one of " + COMPRESSIONS + ": "
          + quote(compression));
    }
    String fileHash = required(fields, "FileHash", SHA256);
    String narHash = required(fields, "NarHash", SHA256);
    long fileSize = size(fields, "FileSize");
    long narSize = size(fields, "NarSize");
    String refs = fields.getOrDefault("References", "").strip();
    List<String> references = refs.isEmpty() ? List.of() : List.of(refs.split(" +"));
    for (String r : references) {
      if (!BASE_NAME.matcher(r).matches()) {
        throw new IllegalArgumentException("narinfo References holds a malformed store path: " + quote(r));
      }
    }
    String deriver = fields.get("Deriver");
    if (deriver != null && (deriver.equals("unknown-deriver") || deriver.isBlank())) {
      deriver = null;
    }
    if (deriver != null && !BASE_NAME.matcher(deriver).matches()) {
      throw new IllegalArgumentException("narinfo Deriver is malformed: " + quote(deriver));
    }
    return new NarInfo(storePath, url, compression, fileHash, fileSize, narHash, narSize, references, deriver, sigs);
  }

  private static String required(Map<String, String> fields, String key, Pattern pattern) {
    String v = fields.get(key);
    if (v == null) {
      throw new IllegalArgumentException("narinfo has no '" + key + "' field");
    }
    if (!pattern.matcher(v).matches()) {
      throw new IllegalArgumentException("narinfo " + key + " is malformed: " + quote(v));
    }
    return v;
  }

  private static long size(Map<String, String> fields, String key) {
    String v = fields.get(key);
    if (v == null || !v.matches("[0-9]{1,18}")) {
      throw new IllegalArgumentException("narinfo " + key + " is not a size: " + quote(v));
    }
    return Long.parseLong(v);
  }

  private static String quote(String s) {
    if (s == null) {
      return "<missing>";
    }
    String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
    return "'" + cut.replaceAll("\\p{Cntrl}", "?") + "'";
  }
}
