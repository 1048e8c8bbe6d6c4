package dev.nixek.ci.testing.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.testing.kube.PodStartErrors.StartFailure;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContainerSandboxTest {

    private static final PodSecurity NON_ROOT = new PodSecurity(65532L, 65532L, List.of(65532L), 65532L, true,
            List.of("all"));

    @Test
    void mountsComeFirstThenTheUserThenTheCommandUnchanged() throws Exception {
        ContainerSandbox s = ContainerSandbox.of(List.of(new ContainerSandbox.Bind(Path.of("/tmp/p/nix"), "/nix")),
                List.of(Path.of("/tmp/p/token")), NON_ROOT, true);
        List<String> argv = s.wrap(List.of("/bin/cat", "a b"));
        assertThat(argv.get(0)).endsWith("/unshare");
        assertThat(argv.subList(1, 9)).containsExactly("--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                ContainerSandbox.MOUNT_SCRIPT, "sh");
        assertThat(argv.subList(9, 16)).containsExactly("b", "/tmp/p/nix", "/nix", "r", "/tmp/p/token", "--",
                argv.get(15));
        assertThat(argv.get(15)).endsWith("/setpriv");
        assertThat(argv.subList(16, argv.size())).containsExactly("--reuid=65532", "--regid=65532", "--groups=65532",
                "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--", "/bin/cat", "a b");
    }

    @Test
    void nothingAskedNothingWrapped() throws Exception {
        assertThat(ContainerSandbox.of(List.of(), List.of(), PodSecurity.NONE, true).wrap(List.of("true")))
                .containsExactly("true");
        assertThat(ContainerSandbox.of(List.of(), List.of(), PodSecurity.NONE, false).wrap(List.of("true")))
                .containsExactly("true");
    }

    @Test
    void withoutRootARestrictedPodIsRefusedRatherThanRunAsTheWrongUser() {
        assertThatThrownBy(() -> ContainerSandbox.of(List.of(), List.of(), NON_ROOT, false))
                .isInstanceOfSatisfying(StartFailure.class, e -> assertThat(e.reason)
                        .isEqualTo("TestKubeletUnsupported")).hasMessageContaining("only when it runs as root");
    }

    @Test
    void aBindOverAPathTheHostLacksIsRefused() {
        assertThatThrownBy(() -> ContainerSandbox.of(List.of(new ContainerSandbox.Bind(Path.of("/tmp"),
                "/no-such-dir-here")), List.of(), PodSecurity.NONE, true)).isInstanceOf(StartFailure.class)
                .hasMessageContaining("/no-such-dir-here");
    }
}
