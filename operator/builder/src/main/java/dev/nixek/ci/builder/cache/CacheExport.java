package dev.nixek.ci.builder.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * The builder's half of the binary cache: what this pod built for a derivation goes into an unsigned local binary
 * cache ({@code nix copy --to file://...}) and from there into one zip, the bundle the operator checks, signs and
 * publishes (operator/common's {@code CachePublisher}). The pod signs nothing and holds no key.
 *
 * <p>What is pushed: the outputs (and sources) in the closure of the derivation that Nix marks {@code ultimate} —
 * made in this store, not substituted: the builder's store starts empty, so that is what this build produced — and
 * the content-addressed paths in it that carry no signature: what this store fetched itself, such as a flake input's
 * source ({@code fixed:r:sha256}; a fetch is not {@code ultimate}), which the domain's evaluation pods then
 * substitute instead of fetching again. A content-addressed path's name is its content's hash, which Nix checks on
 * substitution. Not pushed: the derivation's own outputs (the disk image), substituted paths (in a cache already:
 * they carry its signature), derivation files.
 */
public final class CacheExport {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TIMEOUT_SECONDS = 3600;
  private static final Pattern URL = Pattern.compile("(?m)^URL: (nar/\\S+)$");

  private final List<String> storeArgs;
  private final Map<String, String> environment;

  /**
   * @param storeArgs arguments naming the store ({@code --store <dir>} in tests; none: the default store)
   * @param environment the environment nix runs in
   */
  public CacheExport(List<String> storeArgs, Map<String, String> environment) {
    this.storeArgs = List.copyOf(storeArgs);
    this.environment = Map.copyOf(environment);
  }

  /**
   * The store paths in the closure of {@code drvPath} that this store built (or added) itself, less the outputs of
   * {@code drvPath}: for an image that is the disk image, which goes to S3 as the image's upload, and is never
   * substituted (the image's identity finds its AMI first).
   */
  public List<String> builtHere(String drvPath) throws IOException, InterruptedException {
    List<String> outputs = new ArrayList<>(List.of("nix-store"));
    outputs.addAll(storeArgs);
    outputs.addAll(List.of("--query", "--outputs", drvPath));
    List<String> own = run(outputs).lines().map(String::strip).filter(l -> l.startsWith("/")).toList();
    List<String> command = new ArrayList<>(List.of("nix-store"));
    command.addAll(storeArgs);
    command.addAll(List.of("--query", "--requisites", "--include-outputs", drvPath));
    List<String> closure = run(command).lines().map(String::strip)
        .filter(l -> l.startsWith("/") && !l.endsWith(".drv")).toList();
    if (closure.isEmpty()) {
      return List.of();
    }
    List<String> info = new ArrayList<>(List.of("nix", "--extra-experimental-features", "nix-command",
        "path-info", "--json"));
    info.addAll(storeArgs);
    info.addAll(closure);
    JsonNode paths = JSON.readTree(run(info));
    TreeSet<String> built = new TreeSet<>();
    // nix 2.26 answers an object keyed by path; older ones a list of objects with "path"
    if (paths.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = paths.fields(); it.hasNext(); ) {
        var e = it.next();
        if (madeHere(e.getValue())) {
          built.add(e.getKey());
        }
      }
    } else {
      for (JsonNode p : paths) {
        if (madeHere(p)) {
          built.add(p.path("path").asText());
        }
      }
    }
    own.forEach(built::remove);
    return List.copyOf(built);
  }

  /** Built in this store ({@code ultimate}), or fetched by it: content-addressed and signed by no cache. */
  static boolean madeHere(JsonNode info) {
    if (info.path("ultimate").asBoolean(false)) {
      return true;
    }
    boolean contentAddressed = info.hasNonNull("ca") && !info.path("ca").asText().isEmpty();
    JsonNode sigs = info.path("signatures");
    return contentAddressed && (sigs.isMissingNode() || sigs.isNull() || sigs.isEmpty());
  }

  /**
   * Writes {@code paths} (not their closure) into an unsigned file:// binary cache at {@code cacheDir}.
   *
   * <p>Nix adds a path to a binary cache only when its references are there; the references this store substituted
   * are in a cache already, and compressing them again would cost what the cache saves. So each such reference gets
   * a placeholder narinfo while {@code nix copy} runs, removed afterwards: the bundle holds what was built here only.
   */
  public void copyTo(Path cacheDir, List<String> paths) throws IOException, InterruptedException {
    Files.createDirectories(cacheDir);
    if (paths.isEmpty()) {
      return;
    }
    List<String> query = new ArrayList<>(List.of("nix-store"));
    query.addAll(storeArgs);
    query.addAll(List.of("--query", "--references"));
    query.addAll(paths);
    TreeSet<String> elsewhere = new TreeSet<>(run(query).lines().map(String::strip)
        .filter(l -> l.startsWith("/")).toList());
    paths.forEach(elsewhere::remove);
    List<Path> placeholders = new ArrayList<>();
    for (String ref : elsewhere) {
      Path narinfo = cacheDir.resolve(Path.of(ref).getFileName().toString().substring(0, 32) + ".narinfo");
      Files.writeString(narinfo, "StorePath: " + ref + "\nURL: nar/placeholder.nar\nCompression: none\nNarHash: sha256:"
          + "0".repeat(52) + "\nNarSize: 1\nReferences: \n");
      placeholders.add(narinfo);
    }
    try {
      copy(cacheDir, paths);
    } finally {
      for (Path p : placeholders) {
        Files.deleteIfExists(p);
      }
    }
  }

  private void copy(Path cacheDir, List<String> paths) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("nix", "--extra-experimental-features", "nix-command", "copy"));
    command.addAll(storeArgs);
    command.addAll(List.of("--no-recursive", "--to", "file://" + cacheDir.toAbsolutePath() + "?compression=xz"));
    command.addAll(paths);
    run(command);
  }

  /**
   * Zips a file:// binary cache: each narinfo directly followed by its NAR, so the publisher holds one NAR at a
   * time. Entries are stored (NARs are compressed already). Returns the number of narinfos.
   */
  public static int bundle(Path cacheDir, OutputStream out) throws IOException {
    int count = 0;
    List<Path> narinfos;
    try (var files = Files.list(cacheDir)) {
      narinfos = files.filter(p -> p.getFileName().toString().endsWith(".narinfo")).sorted().toList();
    }
    TreeSet<String> written = new TreeSet<>();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      for (Path narinfo : narinfos) {
        store(zip, narinfo.getFileName().toString(), narinfo);
        Matcher url = URL.matcher(Files.readString(narinfo));
        if (url.find() && written.add(url.group(1))) {
          store(zip, url.group(1), cacheDir.resolve(url.group(1)));
        }
        count++;
      }
    }
    return count;
  }

  private static void store(ZipOutputStream zip, String name, Path file) throws IOException {
    CRC32 crc = new CRC32();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[64 * 1024];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        crc.update(buffer, 0, n);
      }
    }
    ZipEntry entry = new ZipEntry(name);
    entry.setMethod(ZipEntry.STORED);
    entry.setSize(Files.size(file));
    entry.setCompressedSize(Files.size(file));
    entry.setCrc(crc.getValue());
    zip.putNextEntry(entry);
    Files.copy(file, zip);
    zip.closeEntry();
  }

  private String run(List<String> command) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().clear();
    pb.environment().putAll(environment);
    Path err = Files.createTempFile("nixek-cache-export", ".err");
    try {
      pb.redirectError(err.toFile());
      Process process = pb.start();
      process.getOutputStream().close();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      process.getInputStream().transferTo(out);
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(command.get(0) + " timed out after " + TIMEOUT_SECONDS + " s");
      }
      if (process.exitValue() != 0) {
        String stderr = Files.readString(err, StandardCharsets.UTF_8).strip();
        throw new IOException(String.join(" ", command.subList(0, Math.min(4, command.size()))) + " exited with "
            + process.exitValue() + ": " + (stderr.length() > 2000 ? stderr.substring(stderr.length() - 2000)
            : stderr));
      }
      return out.toString(StandardCharsets.UTF_8);
    } finally {
      Files.deleteIfExists(err);
    }
  }
}
