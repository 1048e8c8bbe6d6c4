package dev.nixek.ci.testing.kube;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * File ownership and modes of a pod's volumes as a kubelet leaves them, so that a process run as the pod's user meets
 * the same permissions as in a cluster.
 *
 * <ul>
 *   <li>emptyDir: a directory of mode 0777 owned by root; with {@code fsGroup} it is group-owned by it and gets the
 *       setgid bit (2777), so that what the pod creates belongs to that group.</li>
 *   <li>secret, configMap, downwardAPI, projected: files owned by root:root with {@code defaultMode} (or the item's
 *       {@code mode}), directories 0755. With {@code fsGroup} the kubelet walks the volume as for every volume it
 *       manages ({@code SetVolumeOwnership}): group fsGroup, and — these volumes are read-only — mode bits ORed with
 *       0440 (directories also 0110 and setgid). So {@code defaultMode: 0400} plus {@code fsGroup: G} gives
 *       {@code 0440 root:G}: readable by a process with G among its groups; without fsGroup the file stays
 *       {@code 0400 root:root}, unreadable for any non-root user.</li>
 * </ul>
 * Changing owners needs root; the test kubelet applies these only when it runs as root (otherwise modes only, with
 * the owner's read bit kept so that it can clean up).
 */
final class VolumeOwnership {

    static final int EMPTY_DIR_MODE = 0777;
    static final int API_DIR_MODE = 0755;
    private static final int SETGID = 02000;
    private static final int READ_ONLY_MASK = 0440;
    private static final int DIR_EXEC_MASK = 0110;

    private VolumeOwnership() {
    }

    /** An emptyDir's directory as the kubelet makes it. */
    static void emptyDir(Path dir, Long fsGroup) throws IOException {
        chmod(dir, EMPTY_DIR_MODE);
        if (fsGroup != null && HostAccounts.isRoot()) {
            Files.setAttribute(dir, "unix:gid", fsGroup.intValue(), LinkOption.NOFOLLOW_LINKS);
            chmod(dir, EMPTY_DIR_MODE | SETGID);
        }
    }

    /** A secret/configMap/downwardAPI/projected volume, its files written with their modes: fsGroup applied. */
    static void apiData(Path dir, Long fsGroup) throws IOException {
        if (fsGroup == null || !HostAccounts.isRoot()) {
            return;
        }
        List<Path> all;
        try (var walk = Files.walk(dir)) {
            all = walk.toList();
        }
        for (Path p : all) {
            if (Files.isSymbolicLink(p)) {
                continue; // a chmod through a link would change its target's mode
            }
            Files.setAttribute(p, "unix:gid", fsGroup.intValue(), LinkOption.NOFOLLOW_LINKS);
            int mode = mode(p) | READ_ONLY_MASK;
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                mode |= DIR_EXEC_MASK | SETGID;
            }
            chmod(p, mode);
        }
    }

    /** The permission bits of {@code p} (with setuid/setgid/sticky). */
    static int mode(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)).intValue() & 07777;
    }

    /**
     * Sets {@code mode} exactly when running as root (root reads and deletes whatever the mode); otherwise the
     * permission bits with the owner's read bit kept, so that the harness can clean up.
     */
    static void chmod(Path p, int mode) throws IOException {
        if (HostAccounts.isRoot()) {
            Files.setAttribute(p, "unix:mode", mode & 07777, LinkOption.NOFOLLOW_LINKS);
            return;
        }
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(order[i]);
            }
        }
        s.add(PosixFilePermission.OWNER_READ);
        Files.setPosixFilePermissions(p, s);
    }

    /** Makes {@code p} owned by {@code uid:gid} (root only; nothing otherwise). */
    static void chown(Path p, long uid, long gid) throws IOException {
        if (HostAccounts.isRoot()) {
            Files.setAttribute(p, "unix:uid", (int) uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", (int) gid, LinkOption.NOFOLLOW_LINKS);
        }
    }
}
