package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.nixek.ci.testing.kube.RequiredTools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The builder's {@code --cache-grant} step with real Nix: after a build of two derivations (the second standing for
 * the image) in a fresh store, what the store built besides the image goes up as one zip through the grant's
 * presigned part URLs (a local HTTP server standing for S3); a refused upload is reported, never thrown.
 */
class CacheStepIT {
  @TempDir
  Path dir;

  private HttpServer server;
  private final Map<String, byte[]> received = new TreeMap<>();
  private volatile int status = 200;

  @BeforeEach
  void start() throws Exception {
    RequiredTools.nix();
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", ex -> {
      synchronized (received) {
        received.put(ex.getRequestMethod() + " " + ex.getRequestURI(), ex.getRequestBody().readAllBytes());
      }
      ex.getResponseHeaders().add("ETag", "\"e\"");
      ex.sendResponseHeaders(status, -1);
      ex.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private Path grant() throws Exception {
    List<String> urls = new ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      urls.add("\"http://127.0.0.1:" + server.getAddress().getPort() + "/caches/staging/b.zip?partNumber=" + i
          + "&X-Amz-Signature=s\"");
    }
    return Files.writeString(dir.resolve("cache.json"), "{\"bucket\":\"caches\",\"key\":\"staging/b.zip\",\"urls\":["
        + String.join(",", urls) + "]}");
  }

  /** Builds a dependency and an "image" referring to it in a fresh store; returns the image's drvPath. */
  private String build(Path store) throws Exception {
    Path expr = Files.writeString(dir.resolve("image.nix"), """
        let
          dep = builtins.derivation { name = "cache-step-dep"; system = builtins.currentSystem; builder = "/bin/sh";
            nonce = "%s"; args = [ "-c" "echo dep > $out" ]; };
        in builtins.derivation { name = "cache-step-image"; system = builtins.currentSystem; builder = "/bin/sh";
          inherit dep; args = [ "-c" "echo $dep > $out" ]; }
        """.formatted(java.util.UUID.randomUUID()));
    List<String> paths = new ArrayList<>(List.of("/bin/sh=" + Path.of("/bin/sh").toRealPath(), "/usr"));
    for (String lib : List.of("/lib", "/lib64")) {
      if (Files.exists(Path.of(lib))) {
        paths.add(lib + "=" + Path.of(lib).toRealPath());
      }
    }
    Process p = new ProcessBuilder("nix-build", "--store", store.toString(), "--no-out-link", "--option", "sandbox",
        "true", "--option", "sandbox-paths", String.join(" ", paths), "--option", "substituters", "", expr.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    Process q = new ProcessBuilder("nix-instantiate", "--store", store.toString(), expr.toString())
        .redirectErrorStream(true).start();
    String drv = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(q.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return drv.lines().reduce((a, b) -> b).orElseThrow();
  }

  private Map<String, String> nixEnv(Path store) {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("NIX_CONFIG", "store = " + store);
    return env;
  }

  @Test
  void whatTheStoreBuiltBesidesTheImageGoesUpAsOneBundleThroughTheGrant() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store"));
    String drv = build(store);
    CacheStep.Outcome outcome = new CacheStep(nixEnv(store), 5 * (int) PartPlan.MIB, dir).run(drv, grant());
    assertThat(outcome.error()).isNull();
    assertThat(outcome.paths()).isEqualTo(1);
    assertThat(received).hasSize(1).containsOnlyKeys("PUT /caches/staging/b.zip?partNumber=1&X-Amz-Signature=s");
    byte[] zip = received.values().iterator().next();
    assertThat((long) zip.length).isEqualTo(outcome.size());
    List<String> entries = new ArrayList<>();
    String narinfo = null;
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
        entries.add(e.getName());
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        in.transferTo(body);
        if (e.getName().endsWith(".narinfo")) {
          narinfo = body.toString(StandardCharsets.UTF_8);
        }
      }
    }
    assertThat(entries).hasSize(2).anyMatch(n -> n.endsWith(".narinfo")).anyMatch(n -> n.startsWith("nar/"));
    // the dependency, unsigned: the pod holds no key
    assertThat(narinfo).contains("-cache-step-dep").doesNotContain("Sig:");
    // and the work directory is gone
    try (var left = Files.list(dir)) {
      assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("nixek-cache-"));
    }
  }

  @Test
  void aRefusedUploadIsReportedNotThrown() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store"));
    String drv = build(store);
    status = 403;
    CacheStep.Outcome outcome = new CacheStep(nixEnv(store), 5 * (int) PartPlan.MIB, dir).run(drv, grant());
    assertThat(outcome.size()).isEqualTo(-1);
    assertThat(outcome.error()).contains("HTTP 403");
    CacheStep.Outcome noGrant = new CacheStep(nixEnv(store), 5 * (int) PartPlan.MIB, dir)
        .run(drv, dir.resolve("missing.json"));
    assertThat(noGrant.error()).contains("cannot read the upload grant");
  }
}
