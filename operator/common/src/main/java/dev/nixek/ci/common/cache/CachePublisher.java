package dev.nixek.ci.common.cache;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Publishes what one build pushed — an unsigned Nix binary cache ({@code nix copy --to file://...}) zipped by the
 * builder — into its trust domain's cache in S3, signed with the domain's key. It runs where the user's Nix code never
 * ran (the operator), so the pod needs no S3 write access to the cache and never sees the key.
 *
 * <p>What it trusts of the bundle: nothing but the shape. Every narinfo is parsed strictly, its NAR must be in the
 * bundle with the size and SHA-256 the narinfo claims (so a signed narinfo never points at other bytes), the pod's
 * own signatures are dropped, and a store path the domain's cache already has is never replaced (first writer wins:
 * a later build cannot swap the content of a path that earlier builds substitute). NARs go up before their narinfo,
 * so a narinfo never names a missing NAR. Nix checks the NAR's own hash (NarHash) when it substitutes.
 */
public final class CachePublisher {
  private static final Pattern NARINFO_ENTRY = Pattern.compile("[0-9a-df-np-sv-z]{32}\\.narinfo");
  private static final Pattern NAR_ENTRY = Pattern.compile("nar/[0-9a-df-np-sv-z]{52}\\.nar(\\.xz|\\.zst|\\.bz2)?");
  private static final int MAX_ENTRIES = 200_000;

  private final S3Client s3;
  private final String bucket;
  private final CacheLayout layout;
  private final Path spoolDir;

  /** The outcome: store paths signed and uploaded, already in the cache, and refused (with why). */
  public record Result(List<String> published, List<String> alreadyCached, List<String> refused) {}

  public CachePublisher(S3Client s3, String bucket, CacheLayout layout, Path spoolDir) {
    this.s3 = s3;
    this.bucket = bucket;
    this.layout = layout;
    this.spoolDir = spoolDir;
  }

  /**
   * Reads the bundle to its end and publishes what holds up. Malformed entries are refused one by one (the
   * result says why); an unreadable bundle throws.
   */
  public Result publish(String trustDomain, CacheSigningKey key, InputStream bundle) throws IOException {
    String root = layout.root(trustDomain);
    Map<String, NarInfo> waiting = new HashMap<>();
    Map<String, Spooled> nars = new HashMap<>();
    List<String> published = new ArrayList<>();
    List<String> cached = new ArrayList<>();
    List<String> refused = new ArrayList<>();
    Path spool = Files.createTempDirectory(spoolDir, "cache-publish-");
    try (ZipInputStream zip = new ZipInputStream(bundle)) {
      ZipEntry entry;
      int entries = 0;
      while ((entry = zip.getNextEntry()) != null) {
        if (++entries > MAX_ENTRIES) {
          throw new IOException("the cache bundle has more than " + MAX_ENTRIES + " entries");
        }
        String name = entry.getName();
        if (entry.isDirectory() || name.equals("nix-cache-info")) {
          continue;
        }
        if (NARINFO_ENTRY.matcher(name).matches()) {
          NarInfo info;
          try {
            info = NarInfo.parse(zip.readNBytes(1024 * 1024 + 1));
          } catch (IllegalArgumentException e) {
            refused.add(name + ": " + e.getMessage());
            continue;
          }
          if (!name.equals(info.hashPart() + ".narinfo")) {
            refused.add(name + ": names another store path (" + info.storePath() + ")");
            continue;
          }
          if (waiting.putIfAbsent(info.url(), info) != null) {
            refused.add(name + ": a second narinfo for " + info.url());
          }
        } else if (NAR_ENTRY.matcher(name).matches()) {
          if (nars.containsKey(name)) {
            refused.add(name + ": twice in the bundle");
            continue;
          }
          nars.put(name, spool(zip, spool.resolve("nar-" + nars.size())));
        } else {
          refused.add(name + ": not a file of a Nix binary cache");
          continue;
        }
        // publish each pair as soon as both halves are in: the builder writes them side by side
        for (var it = waiting.entrySet().iterator(); it.hasNext(); ) {
          var e = it.next();
          Spooled nar = nars.get(e.getKey());
          if (nar != null) {
            it.remove();
            boolean uploaded = publishOne(root, key, e.getValue(), nar, published, cached, refused);
            if (uploaded && nar.file() != null) {
              Files.deleteIfExists(nar.file());
              // identical outputs of two paths share one NAR: what was checked stays known, the bytes go
              nars.put(e.getKey(), new Spooled(null, nar.size(), nar.sha256()));
            }
          }
        }
      }
    } finally {
      deleteTree(spool);
    }
    waiting.values().forEach(i -> refused.add(i.hashPart() + ".narinfo: its NAR " + i.url() + " is not in the bundle"));
    return new Result(published, cached, refused);
  }

  /** Publishes one path; true when its NAR is in the cache afterwards. */
  private boolean publishOne(String root, CacheSigningKey key, NarInfo info, Spooled nar, List<String> published,
      List<String> cached, List<String> refused) {
    if (!info.url().startsWith("nar/" + info.fileHash().substring("sha256:".length()) + ".nar")) {
      refused.add(info.hashPart() + ".narinfo: its URL is not named by its FileHash");
      return false;
    }
    if (nar.size() != info.fileSize() || !nar.sha256().equals(info.fileHash())) {
      refused.add(info.hashPart() + ".narinfo: " + info.url() + " is not the file it describes (size "
          + nar.size() + ", " + nar.sha256() + ")");
      return false;
    }
    String narinfoKey = root + info.hashPart() + ".narinfo";
    if (exists(narinfoKey)) {
      cached.add(info.storePath());
      return false;
    }
    String narKey = root + info.url();
    if (nar.file() != null && !exists(narKey)) {
      s3.putObject(r -> r.bucket(bucket).key(narKey).contentType("application/x-nix-nar"),
          RequestBody.fromFile(nar.file()));
    }
    NarInfo signed = info.withSignatures(List.of(key.sign(info.fingerprint())));
    s3.putObject(r -> r.bucket(bucket).key(narinfoKey).contentType("text/x-nix-narinfo"),
        RequestBody.fromString(signed.render(), StandardCharsets.UTF_8));
    published.add(info.storePath());
    return true;
  }

  private boolean exists(String key) {
    try {
      s3.headObject(r -> r.bucket(bucket).key(key));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return false;
      }
      throw e;
    }
  }

  /** A NAR of the bundle: its file while it waits to go up (null once uploaded), its size and hash. */
  private record Spooled(Path file, long size, String sha256) {}

  private static Spooled spool(InputStream in, Path file) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    long size;
    try (OutputStream out = new DigestOutputStream(Files.newOutputStream(file), sha)) {
      size = in.transferTo(out);
    }
    return new Spooled(file, size, "sha256:" + NixBase32.encode(sha.digest()));
  }

  private static void deleteTree(Path dir) {
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      // a leftover spool file is harmless; the publish itself is what matters
    }
  }
}
