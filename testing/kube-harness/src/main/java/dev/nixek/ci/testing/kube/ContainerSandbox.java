package dev.nixek.ci.testing.kube;

import dev.nixek.ci.testing.kube.PodStartErrors.StartFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How a pod's process is started so that what a kubelet and its container runtime enforce holds for it too: in a
 * private mount namespace ({@code unshare --mount}) where volumes mounted at an in-place path (see
 * {@link TestKubelet#IN_PLACE_PATHS}) are bind-mounted at that path and read-only mounts are read-only binds, then
 * {@code setpriv} to the pod's user, groups, no-new-privileges and capability bounding set ({@link PodSecurity}).
 * Both need root; a test kubelet that is not root runs pods without either (see {@link #of}).
 *
 * <p>The namespace is made by {@code unshare} and a {@code sh} that runs the mounts and then {@code exec}s, so the
 * process started keeps its pid all the way to the container's command (the stop by process group still works).
 */
final class ContainerSandbox {

    /** The mounts; then {@code exec "$@"}. Arguments: {@code b SRC DST}, {@code r DIR}, ..., {@code --}, command. */
    static final String MOUNT_SCRIPT = """
            set -e
            while [ "$1" != -- ]; do
              case "$1" in
                b) mount --bind "$2" "$3"; shift 3 ;;
                r) mount --bind "$2" "$2"; mount -o remount,bind,ro "$2"; shift 2 ;;
                *) echo "test kubelet: bad mount operation $1" >&2; exit 125 ;;
              esac
            done
            shift
            exec "$@"
            """;

    /** A host directory bind-mounted at a container path that is not rewritten. */
    record Bind(Path source, String target) {
    }

    private final List<Bind> binds;
    private final List<Path> readOnly;
    private final PodSecurity security;

    private ContainerSandbox(List<Bind> binds, List<Path> readOnly, PodSecurity security) {
        this.binds = List.copyOf(binds);
        this.readOnly = List.copyOf(readOnly);
        this.security = security;
    }

    /**
     * The sandbox of a pod: as asked when the test kubelet is root; otherwise none, and a pod whose security context
     * restricts its process cannot be run honestly, so it fails ({@code TestKubeletUnsupported}).
     */
    static ContainerSandbox of(List<Bind> binds, List<Path> readOnly, PodSecurity security, boolean root)
            throws StartFailure {
        if (!root) {
            if (security.restricts()) {
                throw new StartFailure("TestKubeletUnsupported", "the test kubelet enforces a pod's securityContext"
                        + " (user, groups, no-new-privileges, capabilities) only when it runs as root");
            }
            return new ContainerSandbox(List.of(), List.of(), security);
        }
        for (Bind b : binds) {
            if (!Files.isDirectory(Path.of(b.target()))) {
                throw new StartFailure("TestKubeletUnsupported", "volume at " + b.target() + ": the test kubelet"
                        + " bind-mounts it over the host's " + b.target() + ", which does not exist here");
            }
        }
        return new ContainerSandbox(binds, readOnly, security);
    }

    /** Mounts to make and the user to become, before {@code command}. */
    List<String> wrap(List<String> command) throws StartFailure {
        List<String> argv = new ArrayList<>();
        if (!binds.isEmpty() || !readOnly.isEmpty()) {
            argv.addAll(List.of(tool("unshare"), "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                    MOUNT_SCRIPT, "sh"));
            for (Bind b : binds) {
                argv.addAll(List.of("b", b.source().toString(), b.target()));
            }
            for (Path p : readOnly) {
                argv.addAll(List.of("r", p.toString()));
            }
            argv.add("--");
        }
        if (security.restricts()) {
            argv.add(tool("setpriv"));
            argv.addAll(security.setprivArguments());
            argv.add("--");
        }
        argv.addAll(command);
        return argv;
    }

    List<Bind> binds() {
        return binds;
    }

    List<Path> readOnly() {
        return readOnly;
    }

    private static String tool(String name) throws StartFailure {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return TestBinaries.onPath(name).map(Path::toString).orElseThrow(() -> new StartFailure(
                "TestKubeletUnsupported", "the test kubelet needs util-linux's " + name + " to run this pod"));
    }
}
