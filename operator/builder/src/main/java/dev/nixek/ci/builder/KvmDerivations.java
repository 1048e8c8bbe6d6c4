package dev.nixek.ci.builder;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The derivations a build of the image expression would build that require the {@code kvm} system feature (nixpkgs'
 * {@code runInLinuxVM}: the disk image itself). Asked of Nix ({@code nix-build --dry-run}: what is neither valid nor
 * substitutable), then read from each {@code .drv}, so a build that needs no VM — or whose VM step is already
 * built — is never refused for want of KVM.
 */
class KvmDerivations {
  private static final Logger LOG = LoggerFactory.getLogger(KvmDerivations.class);
  /** {@code ("requiredSystemFeatures","kvm nixos-test")} in a .drv's environment. */
  private static final Pattern ENV_FEATURES = Pattern.compile("\\(\"requiredSystemFeatures\",\"([^\"]*)\"\\)");
  /** The same inside {@code __json} (structured attributes), where quotes are escaped. */
  private static final Pattern JSON_FEATURES = Pattern.compile("requiredSystemFeatures\\\\\":\\[([^\\]]*)\\]");
  private static final Pattern DRV_LINE = Pattern.compile("\\s*(/\\S+\\.drv)\\s*");

  private final String nixBuild;

  KvmDerivations() {
    this("nix-build");
  }

  KvmDerivations(String nixBuild) {
    this.nixBuild = nixBuild;
  }

  /**
   * The derivations of {@code expr} to be built that require {@code kvm}; empty (unknown) when Nix cannot say —
   * the expression does not evaluate, say: the build that follows reports that in Nix's words.
   */
  Optional<List<String>> of(Path expr, Map<String, String> environment) throws InterruptedException {
    ProcessBuilder pb = ChildEnvironment.apply(new ProcessBuilder(nixBuild, "--dry-run", "--no-out-link",
        "--extra-experimental-features", "nix-command flakes", expr.toString()), environment);
    pb.redirectErrorStream(true).redirectInput(new File("/dev/null"));
    List<String> toBuild = new ArrayList<>();
    int exit;
    try {
      Process process = pb.start();
      try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = out.readLine()) != null; ) {
          Matcher m = DRV_LINE.matcher(line);
          if (m.matches()) {
            toBuild.add(m.group(1));
          }
        }
      }
      exit = process.waitFor();
    } catch (IOException e) {
      LOG.warn("cannot ask nix what the build needs ({}): the build decides", e.toString());
      return Optional.empty();
    }
    if (exit != 0) {
      LOG.warn("nix-build --dry-run exited with status {}: the build decides", exit);
      return Optional.empty();
    }
    List<String> needKvm = new ArrayList<>();
    for (String drv : toBuild) {
      try {
        if (requiresKvm(Files.readString(Path.of(drv), StandardCharsets.UTF_8))) {
          needKvm.add(drv);
        }
      } catch (IOException e) {
        LOG.warn("cannot read {}: {}", drv, e.toString());
      }
    }
    LOG.info("{} derivations to build, {} of them need kvm", toBuild.size(), needKvm.size());
    return Optional.of(needKvm);
  }

  /** Whether the text of a .drv (ATerm) requires the {@code kvm} system feature. */
  static boolean requiresKvm(String drv) {
    Matcher env = ENV_FEATURES.matcher(drv);
    while (env.find()) {
      if (List.of(env.group(1).trim().split("\\s+")).contains("kvm")) {
        return true;
      }
    }
    Matcher json = JSON_FEATURES.matcher(drv);
    while (json.find()) {
      if (json.group(1).contains("\\\"kvm\\\"")) {
        return true;
      }
    }
    return false;
  }
}
