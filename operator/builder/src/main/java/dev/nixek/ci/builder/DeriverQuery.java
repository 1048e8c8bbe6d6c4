package dev.nixek.ci.builder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The drvPath that produced a store path, from the local Nix database ({@code nix-store --query --deriver}):
 * it works offline and does not re-evaluate the (possibly slow) NixOS expression.
 */
public final class DeriverQuery {
  private static final long TIMEOUT_SECONDS = 60;

  private final String nixStore;

  public DeriverQuery() {
    this("nix-store");
  }

  DeriverQuery(String nixStore) {
    this.nixStore = nixStore;
  }

  public String deriverOf(Path outPath) throws BuilderException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(nixStore, "--query", "--deriver", outPath.toString());
    pb.redirectErrorStream(true);
    String output;
    int exit;
    try {
      Process process = pb.start();
      process.getOutputStream().close();
      output = readBounded(process.getInputStream());
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw BuilderException.build("nix-store --query --deriver timed out; pass --drv-path");
      }
      exit = process.exitValue();
    } catch (IOException e) {
      throw BuilderException.build(
          "cannot run " + nixStore + " to find the drvPath (pass --drv-path): " + e.getMessage(), e);
    }
    // warnings may precede the answer; the answer is the last line ending in .drv
    String drvPath = null;
    for (String line : output.split("\n")) {
      String l = line.strip();
      if (l.startsWith("/") && l.endsWith(".drv")) {
        drvPath = l;
      }
    }
    if (exit != 0 || drvPath == null) {
      throw BuilderException.build("cannot find the drvPath of " + outPath + " (nix-store exit " + exit + "): "
          + output.strip() + "; pass --drv-path");
    }
    return drvPath;
  }

  private static String readBounded(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    int n;
    while ((n = in.read(buffer)) >= 0) {
      if (out.size() < 64 * 1024) {
        out.write(buffer, 0, n);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
