package dev.nixek.ci.testing.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ownership as a kubelet leaves it needs root (chown); under CI=true a non-root run fails here instead of skipping. */
class VolumeOwnershipTest {

    @TempDir
    Path dir;

    @BeforeEach
    void root() {
        assumeTrue(HostAccounts.isRoot() || "true".equals(System.getenv("CI")), "needs root (chown)");
        assertThat(HostAccounts.isRoot()).as("the test kubelet's volume ownership needs root").isTrue();
    }

    private static int gid(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void anEmptyDirIsWorldWritableAndWithFsGroupGroupOwnedAndSetgid() throws Exception {
        Path plain = Files.createDirectory(dir.resolve("plain"));
        VolumeOwnership.emptyDir(plain, null);
        assertThat(VolumeOwnership.mode(plain)).isEqualTo(0777);
        assertThat(gid(plain)).isZero();

        Path grouped = Files.createDirectory(dir.resolve("grouped"));
        VolumeOwnership.emptyDir(grouped, 65532L);
        assertThat(VolumeOwnership.mode(grouped)).isEqualTo(02777);
        assertThat(gid(grouped)).isEqualTo(65532);
    }

    @Test
    void aSecretOf0400StaysRootOnlyWithoutFsGroupAndBecomesGroupReadableWithIt() throws Exception {
        for (Long fsGroup : new Long[] {null, 65532L}) {
            Path vol = Files.createDirectory(dir.resolve("secret-" + fsGroup));
            VolumeOwnership.chmod(vol, VolumeOwnership.API_DIR_MODE);
            Path token = Files.writeString(vol.resolve("token"), "t");
            VolumeOwnership.chmod(token, 0400);
            VolumeOwnership.apiData(vol, fsGroup);
            if (fsGroup == null) {
                assertThat(VolumeOwnership.mode(token)).isEqualTo(0400);
                assertThat(gid(token)).isZero();
                assertThat(VolumeOwnership.mode(vol)).isEqualTo(0755);
            } else {
                assertThat(VolumeOwnership.mode(token)).isEqualTo(0440);
                assertThat(gid(token)).isEqualTo(65532);
                assertThat(VolumeOwnership.mode(vol)).isEqualTo(02755);
                assertThat(gid(vol)).isEqualTo(65532);
            }
        }
    }

    @Test
    void shareWithPodsOpensATestsDirectoryButRefusesToOpenWhatIsAboveIt() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("repo/sub"));
        Files.writeString(shared.resolve("f"), "x");
        VolumeOwnership.chmod(shared.resolve("f"), 0600);
        VolumeOwnership.chmod(dir, 0755);
        TestKubelet.shareWithPods(dir.resolve("repo"));
        assertThat(VolumeOwnership.mode(shared)).isEqualTo(0755);
        assertThat(VolumeOwnership.mode(shared.resolve("f"))).isEqualTo(0644);

        VolumeOwnership.chmod(dir, 0700);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestKubelet.shareWithPods(shared))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining(dir + " is not searchable");
    }
}
