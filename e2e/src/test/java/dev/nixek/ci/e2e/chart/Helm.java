package dev.nixek.ci.e2e.chart;

import dev.nixek.ci.testing.kube.CommandResult;
import dev.nixek.ci.testing.kube.TestBinaries;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The helm binary built from the Go module proxy ({@code hack/build-test-binaries.sh}) run on this repository's chart,
 * for tests that need no cluster ({@code lint}, {@code template}). Under {@code CI=true} a missing helm fails the
 * test, otherwise it is skipped with a message saying how to build it.
 */
public final class Helm {
  public static final Path HOME = Path.of(System.getProperty("nixek.home", "..")).toAbsolutePath().normalize();
  public static final Path CHART = HOME.resolve("charts/nixek-ci");

  private final Path binary;
  private final Path home;

  private Helm(Path binary, Path home) {
    this.binary = binary;
    this.home = home;
  }

  /** Helm with its cache, config and data directories under {@code home}. */
  public static Helm locate(Path home) {
    return new Helm(TestBinaries.locate().require("helm"), home);
  }

  public CommandResult run(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary.toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("HELM_CACHE_HOME", home.resolve("cache").toString());
    pb.environment().put("HELM_CONFIG_HOME", home.resolve("config").toString());
    pb.environment().put("HELM_DATA_HOME", home.resolve("data").toString());
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      CompletableFuture<String> out = read(p.getInputStream());
      CompletableFuture<String> err = read(p.getErrorStream());
      if (!p.waitFor(2, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IllegalStateException("helm timed out: " + cmd);
      }
      return new CommandResult(cmd, p.exitValue(), out.join(), err.join());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** {@code helm template <release> <chart> -n <namespace> -f <values>... <args>}; throws when it fails. */
  public Rendered template(String release, String namespace, List<Path> valuesFiles, String... args) {
    CommandResult r = run(templateArgs(release, namespace, valuesFiles, args)).orThrow();
    return Rendered.parse(r.stdout());
  }

  /** The same, without throwing: for values the schema must reject. */
  public CommandResult tryTemplate(String release, String namespace, List<Path> valuesFiles, String... args) {
    return run(templateArgs(release, namespace, valuesFiles, args));
  }

  private static String[] templateArgs(String release, String namespace, List<Path> valuesFiles, String... args) {
    List<String> a = new ArrayList<>(List.of("template", release, CHART.toString(), "--namespace", namespace));
    for (Path f : valuesFiles) {
      a.add("--values");
      a.add(f.toString());
    }
    a.addAll(List.of(args));
    return a.toArray(String[]::new);
  }

  /** A values file of the test resources ({@code /chart/<name>}), copied to a file helm can read. */
  public static Path valuesFile(Path dir, String name) {
    try (InputStream in = Helm.class.getResourceAsStream("/chart/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test resource /chart/" + name);
      }
      Path f = dir.resolve(name);
      Files.write(f, in.readAllBytes());
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A values file with this content. */
  public static Path valuesFile(Path dir, String name, String yaml) {
    try {
      Path f = dir.resolve(name);
      Files.writeString(f, yaml, StandardCharsets.UTF_8);
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static CompletableFuture<String> read(InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }
}
