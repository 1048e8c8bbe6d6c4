package dev.nixek.ci.testing.kube;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Who the test kubelet runs as, and the host's names of user ids. */
final class HostAccounts {

    private HostAccounts() {
    }

    /** The effective uid of this JVM (the owner of {@code /proc/self}); -1 when unknown. */
    static long uid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }

    /** Whether this JVM may change process users, file owners and mounts (the test kubelet's enforcement needs it). */
    static boolean isRoot() {
        return uid() == 0;
    }

    /** The host's {@code /etc/passwd} name of {@code uid}, if it has one. */
    static Optional<String> name(long uid) {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = line.split(":", -1);
                if (f.length > 2 && f[2].equals(Long.toString(uid))) {
                    return Optional.of(f[0]);
                }
            }
        } catch (IOException e) {
            // no passwd file: no name
        }
        return Optional.empty();
    }
}
