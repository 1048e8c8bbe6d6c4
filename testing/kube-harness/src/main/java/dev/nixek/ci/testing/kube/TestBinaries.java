package dev.nixek.ci.testing.kube;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Assumptions;

/**
 * Where the test binaries (etcd, kube-apiserver, helm) and kubectl are found, and what happens when one is
 * missing.
 *
 * <p>The binary directory is, in this order: the system property {@code nixek.bin.cache}, the environment
 * variable {@code NIXEK_BIN_CACHE}, or {@code <repo>/.cache/bin} where {@code <repo>} is the first directory
 * at or above the working directory that holds {@code hack/build-test-binaries.sh}. kubectl is taken from
 * {@code $KUBECTL} or the {@code PATH}, then from the binary directory.
 *
 * <p>While {@code hack/build-tools.sh} builds the binaries in the background (test.sh starts it beside Maven), the
 * file named by the environment variable {@code NIXEK_TOOLS_STATUS} says {@code building}: a lookup waits until it
 * says anything else (at most {@link #TOOL_BUILD_WAIT}), so a test that needs a tool runs once it is built rather than
 * failing before it is.
 *
 * <p>A missing binary fails the test with {@link IllegalStateException} when the environment variable
 * {@code CI} is {@code true}; otherwise it aborts the test (JUnit assumption: reported as skipped). Either
 * way the message says to run {@code hack/build-test-binaries.sh}.
 */
public final class TestBinaries {

    /** The script that builds the binaries, relative to the repository root. */
    public static final String BUILD_SCRIPT = "hack/build-test-binaries.sh";

    /** How long a lookup waits for a background tool build (a cold build of every tool takes 15-30 minutes). */
    static final java.time.Duration TOOL_BUILD_WAIT = java.time.Duration.ofMinutes(50);

    private final Path binDir;
    private final String origin;
    private final boolean ci;

    private TestBinaries(Path binDir, String origin, boolean ci) {
        this.binDir = binDir;
        this.origin = origin;
        this.ci = ci;
    }

    /** The binary directory found from system property, environment and working directory. */
    public static TestBinaries locate() {
        return locate(null, isCi());
    }

    /**
     * @param binDir an explicit binary directory, or null to search
     * @param ci whether a missing binary fails (true) or aborts (false) the test
     */
    public static TestBinaries locate(Path binDir, boolean ci) {
        if (binDir != null) {
            return new TestBinaries(binDir.toAbsolutePath(), "given explicitly", ci);
        }
        String prop = System.getProperty("nixek.bin.cache");
        if (prop != null && !prop.isBlank()) {
            return new TestBinaries(Path.of(prop).toAbsolutePath(), "system property nixek.bin.cache", ci);
        }
        String env = System.getenv("NIXEK_BIN_CACHE");
        if (env != null && !env.isBlank()) {
            return new TestBinaries(Path.of(env).toAbsolutePath(), "NIXEK_BIN_CACHE", ci);
        }
        Optional<Path> root = repoRoot();
        if (root.isPresent()) {
            return new TestBinaries(root.get().resolve(".cache/bin"), "<repo>/.cache/bin", ci);
        }
        return new TestBinaries(null, "no NIXEK_BIN_CACHE and no " + BUILD_SCRIPT + " at or above "
                + Path.of("").toAbsolutePath(), ci);
    }

    /** True when the environment variable {@code CI} is {@code true} (case-insensitive). */
    public static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** The repository root: the first directory at or above the working directory holding the build script. */
    public static Optional<Path> repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(BUILD_SCRIPT))) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The binary directory, or null when none could be determined. */
    public Path binDir() {
        return binDir;
    }

    public boolean ci() {
        return ci;
    }

    /** The path of a binary in the binary directory; fails or aborts (see class comment) when it is missing. */
    public Path require(String name) {
        return find(name).orElseGet(() -> missing(problem(name)));
    }

    /** kubectl from {@code $KUBECTL}, the PATH or the binary directory; fails or aborts when missing. */
    public Path kubectl() {
        return require("kubectl");
    }

    /**
     * Why some of the named binaries ({@code kubectl} included) cannot be used, without failing or aborting;
     * empty when all are there.
     */
    public Optional<String> missing(String... names) {
        List<String> problems = new ArrayList<>();
        for (String name : names) {
            if (find(name).isEmpty()) {
                problems.add(problem(name));
            }
        }
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    private Optional<Path> find(String name) {
        if ("kubectl".equals(name)) {
            String env = System.getenv("KUBECTL");
            if (env != null && !env.isBlank() && Files.isExecutable(Path.of(env))) {
                return Optional.of(Path.of(env));
            }
            Optional<Path> onPath = onPath("kubectl");
            if (onPath.isPresent()) {
                return onPath;
            }
        }
        if (binDir != null) {
            awaitToolBuild(System.getenv("NIXEK_TOOLS_STATUS"), TOOL_BUILD_WAIT);
            Path p = binDir.resolve(name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * Waits while the status file says {@code building}; returns at once without a file (no background build).
     * Returns the status read last.
     */
    static String awaitToolBuild(String statusFile, java.time.Duration limit) {
        if (statusFile == null || statusFile.isBlank()) {
            return "";
        }
        Path file = Path.of(statusFile);
        long deadline = System.nanoTime() + limit.toNanos();
        long nextNote = System.nanoTime();
        while (true) {
            String status;
            try {
                status = Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8).strip() : "";
            } catch (IOException e) {
                status = "";
            }
            if (!"building".equals(status) || System.nanoTime() - deadline > 0) {
                return status;
            }
            if (System.nanoTime() - nextNote >= 0) {
                System.err.println("[TestBinaries] waiting for hack/build-tools.sh (" + file + " says building)");
                nextNote = System.nanoTime() + java.time.Duration.ofMinutes(1).toNanos();
            }
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return status;
            }
        }
    }

    private String problem(String name) {
        String prefix = "kubectl".equals(name) ? "kubectl not found on PATH, in $KUBECTL or " : name + " not found ";
        return binDir == null ? prefix + "(" + origin + ")"
                : prefix + "at " + binDir.resolve(name) + " (binary directory from " + origin + ")";
    }

    /**
     * The {@code VERSIONS} file of the binary directory: binary name to version (e.g. kube-apiserver to
     * v1.37.2). Empty when the file does not exist.
     */
    public Map<String, String> versions() {
        Map<String, String> out = new LinkedHashMap<>();
        if (binDir == null) {
            return out;
        }
        Path f = binDir.resolve("VERSIONS");
        if (!Files.isRegularFile(f)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                String[] parts = line.trim().split("\\s+");
                if (parts.length >= 2 && !parts[0].startsWith("#")) {
                    out.put(parts[0], parts[1]);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + f, e);
        }
        return Collections.unmodifiableMap(out);
    }

    static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private <T> T missing(String what) {
        String message = what + ": run " + BUILD_SCRIPT;
        if (ci) {
            throw new IllegalStateException(message + " [CI=true: failing instead of skipping]");
        }
        return Assumptions.abort(message);
    }
}
