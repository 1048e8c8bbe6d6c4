package dev.nixek.ci.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.builder.cache.CacheExport;
import dev.nixek.ci.common.cache.CacheLayout;
import dev.nixek.ci.common.cache.CachePublisher;
import dev.nixek.ci.common.cache.CacheReadTokens;
import dev.nixek.ci.common.cache.CacheReadView;
import dev.nixek.ci.common.cache.CacheSigningKey;
import dev.nixek.ci.common.cache.NarInfo;
import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import dev.nixek.ci.testing.kube.RequiredTools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The binary cache with real Nix and s3proxy, offline: a chain of five derivations (no nixpkgs: {@code /bin/sh}
 * builders in Nix's sandbox) is built in a fresh store, exported by the builder's code, published signed by the
 * operator's code into the domain's prefix in s3proxy, and substituted over the read-only HTTP view into another
 * fresh store — where a one-line change of the last derivation builds exactly that one and substitutes the other four.
 * A cache signed with another key is not trusted.
 */
class BinaryCacheIT {
  private static final String BUCKET = "nixek-cache";
  private static final String DOMAIN = "tenant-a";
  private static final Pattern BUILDING = Pattern.compile("(?m)^building '(/nix/store/[^']+\\.drv)'");
  private static final Pattern FETCHED = Pattern.compile("(?m)^copying path '(/nix/store/[^']+)' from 'http");

  private static S3ProxyServer s3proxy;
  private static S3Client s3;
  private static CacheHttpServer http;
  private static final CacheLayout LAYOUT = new CacheLayout("nixek-cache", "c0ffee");
  private static final CacheSigningKey KEY = CacheSigningKey.generate(LAYOUT.keyName(DOMAIN));
  private static CacheReadTokens tokens;

  @TempDir
  static Path spool;

  @TempDir
  Path dir;

  /** Each test's chain has its own store paths: the cache in s3proxy lives as long as the class. */
  private final String nonce = java.util.UUID.randomUUID().toString();

  @BeforeAll
  static void start() throws Exception {
    s3proxy = S3ProxyServer.builder().transientStore().start();
    s3proxy.createBucket(BUCKET);
    s3 = s3proxy.s3Client();
    byte[] readKey = new byte[32];
    new SecureRandom().nextBytes(readKey);
    tokens = new CacheReadTokens(readKey);
    http = new CacheHttpServer(new CacheReadView(s3, BUCKET, LAYOUT), tokens);
  }

  @AfterAll
  static void stop() {
    if (http != null) {
      http.close();
    }
    if (s3 != null) {
      s3.close();
    }
    if (s3proxy != null) {
      s3proxy.close();
    }
  }

  @BeforeEach
  void nix() {
    RequiredTools.nix();
  }

  /** Five derivations, each holding its line and the one before it (a reference); the last line is {@code last}. */
  private Path chain(String name, String last) throws Exception {
    String nix = """
        let
          nonce = "%s";
          step = name: prev: line: builtins.derivation {
            inherit name line nonce;
            system = builtins.currentSystem;
            builder = "/bin/sh";
            prev = if prev == null then "" else prev;
            args = [ "-c" ''echo "$line" > $out; if [ -n "$prev" ]; then echo "$prev" >> $out; /usr/bin/cat "$prev" >> $out; fi'' ];
          };
          one = step "chain-one" null "one";
          two = step "chain-two" one "two";
          three = step "chain-three" two "three";
          four = step "chain-four" three "four";
        in step "chain-five" four "%s"
        """.formatted(nonce, last);
    return Files.writeString(dir.resolve(name + ".nix"), nix);
  }

  /** A fresh store (its own root: Nix runs the builds in its sandbox, with the host's sh and /usr). */
  private Path freshStore(String name) throws Exception {
    return Files.createDirectories(dir.resolve("store-" + name));
  }

  private record Run(int exit, String output, Duration took) {
    List<String> built() {
      return BUILDING.matcher(output).results().map(m -> m.group(1)).toList();
    }

    List<String> fetched() {
      return FETCHED.matcher(output).results().map(m -> m.group(1)).toList();
    }
  }

  /** nix-build into {@code store} with the domain's cache as its only substituter, trusting {@code trustedKey}. */
  private Run build(Path store, Path expr, String trustedKey, String domain, String... extra) throws Exception {
    Path netrc = Files.writeString(dir.resolve("netrc-" + store.getFileName()),
        CacheReadTokens.netrc("127.0.0.1", tokens.mint(domain, Instant.now().plus(Duration.ofHours(1)))));
    List<String> command = new ArrayList<>(List.of("nix-build", "--store", store.toString(), "--no-out-link",
        "--option", "sandbox", "true",
        "--option", "sandbox-paths", sandboxPaths(),
        "--option", "substituters", http.url(domain).toString(),
        "--option", "trusted-public-keys", trustedKey,
        "--option", "netrc-file", netrc.toString(),
        "--option", "narinfo-cache-negative-ttl", "0"));
    command.addAll(List.of(extra));
    command.add(expr.toString());
    return nix(store, command);
  }

  private Run nix(Path store, List<String> command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    // the narinfo lookups Nix remembers live here: a fresh one per store, as in a fresh pod
    pb.environment().put("XDG_CACHE_HOME", Files.createDirectories(dir.resolve("xdg-" + store.getFileName()))
        .toString());
    // flakes, for the flake input test (builtins.getFlake in nix-instantiate's expressions)
    pb.environment().put("NIX_CONFIG", "extra-experimental-features = nix-command flakes");
    long start = System.nanoTime();
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out, Duration.ofNanos(System.nanoTime() - start));
  }

  private static String sandboxPaths() throws Exception {
    // the builders are the host's /bin/sh and /usr/bin/cat, with the libraries they load
    List<String> paths = new ArrayList<>(List.of("/bin/sh=" + Path.of("/bin/sh").toRealPath(), "/usr"));
    for (String lib : List.of("/lib", "/lib64")) {
      if (Files.exists(Path.of(lib))) {
        paths.add(lib + "=" + Path.of(lib).toRealPath());
      }
    }
    return String.join(" ", paths);
  }

  private String drvPath(Path store, Path expr) throws Exception {
    Run r = nix(store, List.of("nix-instantiate", "--store", store.toString(), expr.toString()));
    assertThat(r.exit()).as(r.output()).isZero();
    return r.output().strip().lines().reduce((a, b) -> b).orElseThrow();
  }

  /** The builder's export, then the operator's publish: what the pod built ends up signed in the domain's cache. */
  private CachePublisher.Result push(Path store, Path expr) throws Exception {
    CacheExport export = new CacheExport(List.of("--store", store.toString()), new HashMap<>(System.getenv()));
    List<String> built = export.builtHere(drvPath(store, expr));
    Path cacheDir = dir.resolve("push-" + store.getFileName());
    export.copyTo(cacheDir, built);
    ByteArrayOutputStream bundle = new ByteArrayOutputStream();
    assertThat(CacheExport.bundle(cacheDir, bundle)).isEqualTo(built.size());
    return new CachePublisher(s3, BUCKET, LAYOUT, spool)
        .publish(DOMAIN, KEY, new ByteArrayInputStream(bundle.toByteArray()));
  }

  private String storeFile(Path store, String storePath) throws Exception {
    return Files.readString(store.resolve(storePath.substring(1)));
  }

  @Test
  void aOneLineChangeBuildsOneDerivationAndSubstitutesTheOtherFour() throws Exception {
    Path first = chain("first", "five");
    Path firstStore = freshStore("first");
    Run one = build(firstStore, first, KEY.publicKey(), DOMAIN);
    assertThat(one.exit()).as(one.output()).isZero();
    assertThat(one.built()).as(one.output()).hasSize(5);
    assertThat(one.fetched()).isEmpty();

    // the last one is the "image": it goes up as the image's upload, not into the cache
    CachePublisher.Result pushed = push(firstStore, first);
    assertThat(pushed.refused()).isEmpty();
    assertThat(pushed.published()).hasSize(4).noneMatch(p -> p.endsWith("-chain-five"));

    Path changed = chain("changed", "five, changed");
    Path secondStore = freshStore("second");
    Run dry = build(secondStore, changed, KEY.publicKey(), DOMAIN, "--dry-run");
    assertThat(dry.output()).as(dry.output()).contains("this derivation will be built", "these 4 paths will be fetched");

    Run two = build(secondStore, changed, KEY.publicKey(), DOMAIN);
    assertThat(two.exit()).as(two.output()).isZero();
    assertThat(two.built()).as(two.output()).hasSize(1).allMatch(d -> d.endsWith("-chain-five.drv"));
    assertThat(two.fetched()).as(two.output()).hasSize(4);
    String out = two.output().strip().lines().reduce((a, b) -> b).orElseThrow();
    assertThat(storeFile(secondStore, out)).startsWith("five, changed\n").contains("four\n", "three\n", "one\n");
    System.out.printf("binary cache: first build %d derivations built in %d ms; after a one-line change %d built, "
        + "%d substituted in %d ms (load %s)%n", one.built().size(), one.took().toMillis(), two.built().size(),
        two.fetched().size(), two.took().toMillis(), Files.readString(Path.of("/proc/loadavg")).strip());

    // the second pod pushes only what it built: the four it substituted are not ultimate in its store, and the
    // one it built is its image
    CacheExport export = new CacheExport(List.of("--store", secondStore.toString()), new HashMap<>(System.getenv()));
    assertThat(export.builtHere(drvPath(secondStore, changed))).isEmpty();
    String four = two.fetched().stream().filter(p -> p.endsWith("-chain-four")).findFirst().orElseThrow();

    // what Nix itself says of the published cache: every path signed by the domain's key
    Run verify = nix(freshStore("verify"), List.of("nix", "--extra-experimental-features", "nix-command", "store",
        "verify", "--store", http.url(DOMAIN).toString(), "--option", "substituters", "",
        "--option", "netrc-file", dir.resolve("netrc-store-second").toString(),
        "--option", "trusted-public-keys", KEY.publicKey(), "--no-contents", "--sigs-needed", "1", four));
    assertThat(verify.exit()).as(verify.output()).isZero();
  }

  /** A git repository at {@code repo} with {@code files}, committed; its head commit. */
  private String gitRepo(Path repo, Map<String, String> files) throws Exception {
    Files.createDirectories(repo);
    for (var f : files.entrySet()) {
      Files.writeString(repo.resolve(f.getKey()), f.getValue());
    }
    git(repo, "init", "-q");
    git(repo, "add", ".");
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "commit");
    return git(repo, "rev-parse", "HEAD").strip();
  }

  private static String git(Path repo, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("git", "-C", repo.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as(String.join(" ", command) + ": " + out)
        .isTrue();
    return out;
  }

  @Test
  void aFlakeInputABuildFetchedIsSubstitutedByALaterEvaluationUnderTheEvaluationSandbox() throws Exception {
    // a job's flake with a locked input; its package uses the input's source (as a NixOS system built from a flake
    // refers to its nixpkgs), so the build fetches the input into the pod's store
    Path repos = dir.resolve("repos");
    Path dep = repos.resolve("dep");
    gitRepo(dep, Map.of("flake.nix", "{ outputs = _: { value = \"from the input " + nonce + "\"; }; }\n"));
    Path top = repos.resolve("top");
    gitRepo(top, Map.of("flake.nix", """
        {
          inputs.dep.url = "git+file://%s";
          outputs = { self, dep }: {
            ci.value = dep.value;
            ci.pkg = builtins.derivation {
              name = "uses-the-input"; system = "x86_64-linux"; builder = "/bin/sh"; src = dep.outPath;
              args = [ "-c" "/usr/bin/cat $src/flake.nix > $out" ];
            };
          };
        }
        """.formatted(dep)));
    Run lock = nix(freshStore("lock"), List.of("nix", "--store", dir.resolve("store-lock").toString(), "flake",
        "lock", "git+file://" + top));
    assertThat(lock.exit()).as(lock.output()).isZero();
    git(top, "add", "flake.lock");
    git(top, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "lock");
    String rev = git(top, "rev-parse", "HEAD").strip();
    String flake = "(builtins.getFlake \"git+file://" + top + "?rev=" + rev + "\")";
    Path pkg = Files.writeString(dir.resolve("flake-pkg.nix"), flake + ".ci.pkg\n");

    Path buildStore = freshStore("flake-build");
    Run build = build(buildStore, pkg, KEY.publicKey(), DOMAIN);
    assertThat(build.exit()).as(build.output()).isZero();
    CachePublisher.Result pushed = push(buildStore, pkg);
    // the input's source goes up (fetched here, content-addressed); the package is the "image", kept out
    assertThat(pushed.published()).as("%s", pushed).singleElement().satisfies(p -> assertThat(p).endsWith("-source"));
    String source = pushed.published().get(0);

    // the input's repository is gone; an evaluation pod's nix, under its sandbox (restrict-eval, allowed-uris
    // naming where the flake and its inputs may come from), with the domain's cache, evaluates the flake
    Files.move(dep, repos.resolve("dep-gone"));
    String evaluate = flake + ".ci.value";
    Run evaluated = evaluate(freshStore("evaluation"), evaluate, KEY.publicKey(), "git+file://" + repos + "/");
    assertThat(evaluated.exit()).as(evaluated.output()).isZero();
    assertThat(evaluated.output()).contains("\"from the input " + nonce + "\"",
        "copying path '" + source + "' from '" + http.url(DOMAIN));

    // without a cache it trusts, the same evaluation has nothing to fetch the input from
    CacheSigningKey other = CacheSigningKey.generate(LAYOUT.keyName("tenant-b"));
    Run untrusted = evaluate(freshStore("evaluation-untrusted"), evaluate, other.publicKey(),
        "git+file://" + repos + "/");
    assertThat(untrusted.exit()).as(untrusted.output()).isNotZero();
    assertThat(untrusted.output()).contains("ignoring substitute for '" + source + "'")
        .doesNotContain("from the input " + nonce);
  }

  /** nix-instantiate --eval as the evaluation pod runs it (docs/evaluation.md#the-sandbox), with the domain's cache. */
  private Run evaluate(Path store, String expression, String trustedKey, String allowedUris) throws Exception {
    Path netrc = Files.writeString(dir.resolve("netrc-" + store.getFileName()),
        CacheReadTokens.netrc("127.0.0.1", tokens.mint(DOMAIN, Instant.now().plus(Duration.ofHours(1)))));
    return nix(store, List.of("nix-instantiate", "--store", store.toString(), "--eval", "--read-write-mode",
        "--option", "restrict-eval", "true",
        "--option", "allow-import-from-derivation", "false",
        "--option", "allowed-uris", allowedUris,
        "--option", "substituters", http.url(DOMAIN).toString(),
        "--option", "trusted-public-keys", trustedKey,
        "--option", "netrc-file", netrc.toString(),
        "--option", "narinfo-cache-negative-ttl", "0",
        "-E", expression));
  }

  @Test
  void aCacheSignedWithAnotherKeyIsNotTrusted() throws Exception {
    Path first = chain("first", "five");
    Path firstStore = freshStore("first");
    assertThat(build(firstStore, first, KEY.publicKey(), DOMAIN).exit()).isZero();
    push(firstStore, first);

    // the pod trusts its own domain's key; this cache's narinfos are signed by another
    CacheSigningKey other = CacheSigningKey.generate(LAYOUT.keyName("tenant-b"));
    Path store = freshStore("untrusted");
    Run run = build(store, first, other.publicKey(), DOMAIN);
    // nix's words: "warning: ignoring substitute for '/nix/store/...-chain-four' from 'http://...', as it's not
    // signed by any of the keys in 'trusted-public-keys'" — and it builds all five itself
    assertThat(run.exit()).as(run.output()).isZero();
    assertThat(run.fetched()).as(run.output()).isEmpty();
    assertThat(run.built()).as(run.output()).hasSize(5);
    assertThat(run.output()).contains("ignoring substitute for", "-chain-four' from '" + http.url(DOMAIN),
        "as it's not signed by any of the keys in 'trusted-public-keys'");
  }

  @Test
  void anotherDomainsCacheIsNotReadable() throws Exception {
    Path first = chain("first", "five");
    Path firstStore = freshStore("first");
    assertThat(build(firstStore, first, KEY.publicKey(), DOMAIN).exit()).isZero();
    push(firstStore, first);

    // tenant-b's pods read tenant-b's prefix (empty) and hold a tenant-b token: all five are built
    Path store = freshStore("tenant-b");
    Run run = build(store, first, KEY.publicKey(), "tenant-b");
    assertThat(run.exit()).as(run.output()).isZero();
    assertThat(run.built()).hasSize(5);
    assertThat(run.fetched()).isEmpty();

    // and a tenant-b token does not open tenant-a's view
    Path netrc = Files.writeString(dir.resolve("netrc-b"),
        CacheReadTokens.netrc("127.0.0.1", tokens.mint("tenant-b", Instant.now().plusSeconds(600))));
    Run stolen = nix(freshStore("stolen"), List.of("nix-build", "--store", dir.resolve("store-stolen").toString(),
        "--no-out-link", "--dry-run", "--option", "substituters", http.url(DOMAIN).toString(),
        "--option", "trusted-public-keys", KEY.publicKey(), "--option", "netrc-file", netrc.toString(),
        first.toString()));
    assertThat(stolen.output()).as(stolen.output()).contains("these 5 derivations will be built");
    assertThat(http.requests).anyMatch(r -> r.startsWith("GET /v1/cache/" + DOMAIN + "/") && r.endsWith(" 401"));
  }

  @Test
  void theFirstWriterWinsAndATamperedNarIsRefused() throws Exception {
    Path first = chain("first", "five");
    Path firstStore = freshStore("first");
    assertThat(build(firstStore, first, KEY.publicKey(), DOMAIN).exit()).isZero();
    push(firstStore, first);
    String drv = drvPath(firstStore, first);
    CacheExport export = new CacheExport(List.of("--store", firstStore.toString()), new HashMap<>(System.getenv()));
    String four = export.builtHere(drv).stream().filter(p -> p.endsWith("-chain-four")).findFirst().orElseThrow();
    String hash = four.substring("/nix/store/".length(), "/nix/store/".length() + 32);
    String key = LAYOUT.root(DOMAIN) + hash + ".narinfo";
    String published = s3.getObjectAsBytes(r -> r.bucket(BUCKET).key(key)).asUtf8String();

    // a later pod claims other bytes for the same path: its narinfo and NAR agree, but the path is taken
    Path cacheDir = dir.resolve("claim");
    export.copyTo(cacheDir, List.of(four));
    Path narinfo = cacheDir.resolve(hash + ".narinfo");
    ByteArrayOutputStream bundle = new ByteArrayOutputStream();
    CacheExport.bundle(cacheDir, bundle);
    CachePublisher publisher = new CachePublisher(s3, BUCKET, LAYOUT, spool);
    CachePublisher.Result claim = publisher.publish(DOMAIN, KEY, new ByteArrayInputStream(bundle.toByteArray()));
    assertThat(claim.alreadyCached()).containsExactly(four);
    assertThat(claim.published()).isEmpty();
    assertThat(s3.getObjectAsBytes(r -> r.bucket(BUCKET).key(key)).asUtf8String()).isEqualTo(published);

    // a NAR that is not the file its narinfo describes is refused and nothing is written for it
    NarInfo info = NarInfo.parse(Files.readAllBytes(narinfo));
    String fresh = "/nix/store/" + "0".repeat(32) + "-tampered";
    NarInfo tampered = new NarInfo(fresh, info.url(), info.compression(), info.fileHash(), info.fileSize(),
        info.narHash(), info.narSize(), List.of(), null, List.of());
    ByteArrayOutputStream bad = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bad)) {
      zip.putNextEntry(new ZipEntry("0".repeat(32) + ".narinfo"));
      zip.write(tampered.render().getBytes(StandardCharsets.UTF_8));
      zip.putNextEntry(new ZipEntry(info.url()));
      zip.write("not the NAR".getBytes(StandardCharsets.UTF_8));
      zip.putNextEntry(new ZipEntry("../escape.narinfo"));
      zip.write(1);
    }
    CachePublisher.Result refused = publisher.publish(DOMAIN, KEY, new ByteArrayInputStream(bad.toByteArray()));
    assertThat(refused.published()).isEmpty();
    assertThat(refused.refused()).anySatisfy(r -> assertThat(r).contains("is not the file it describes"))
        .anySatisfy(r -> assertThat(r).startsWith("../escape.narinfo: not a file of a Nix binary cache"));
    assertThat(s3.listObjectsV2(r -> r.bucket(BUCKET).prefix(LAYOUT.root(DOMAIN) + "0".repeat(32))).contents())
        .isEmpty();
  }
}
