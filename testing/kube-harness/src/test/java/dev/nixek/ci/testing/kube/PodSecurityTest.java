package dev.nixek.ci.testing.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.testing.kube.PodStartErrors.ConfigError;
import dev.nixek.ci.testing.kube.PodStartErrors.StartFailure;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import org.junit.jupiter.api.Test;

class PodSecurityTest {

    private static PodBuilder pod() {
        return new PodBuilder().withNewMetadata().withName("p").withNamespace("ns").withUid("u-1").endMetadata()
                .withNewSpec().addNewContainer().withName("main").withCommand("true").endContainer().endSpec();
    }

    private static PodSecurity of(Pod pod) throws Exception {
        return PodSecurity.of(pod, pod.getSpec().getContainers().get(0));
    }

    @Test
    void aPodWithoutSecurityContextRunsAsTheKubeletsUserUnrestricted() throws Exception {
        PodSecurity s = of(pod().build());
        assertThat(s).isEqualTo(PodSecurity.NONE);
        assertThat(s.restricts()).isFalse();
    }

    @Test
    void theRestrictedProfileBecomesSetprivArguments() throws Exception {
        Pod p = pod().editSpec().withSecurityContext(new PodSecurityContextBuilder().withRunAsNonRoot(true)
                        .withRunAsUser(65532L).withRunAsGroup(65532L).withFsGroup(65532L)
                        .withSupplementalGroups(100L).build())
                .editFirstContainer().withSecurityContext(new SecurityContextBuilder()
                        .withAllowPrivilegeEscalation(false).withNewCapabilities().withDrop("ALL").endCapabilities()
                        .build()).endContainer().endSpec().build();
        PodSecurity s = of(p);
        assertThat(s.fsGroup()).isEqualTo(65532L);
        assertThat(s.setprivArguments()).containsExactly("--reuid=65532", "--regid=65532", "--groups=65532,100",
                "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all");
    }

    @Test
    void theContainersFieldsWinOverThePods() throws Exception {
        Pod p = pod().editSpec().withSecurityContext(new PodSecurityContextBuilder().withRunAsUser(1000L)
                        .withRunAsGroup(1000L).build())
                .editFirstContainer().withSecurityContext(new SecurityContextBuilder().withRunAsUser(2000L)
                        .withNewCapabilities().withDrop("NET_RAW", "CAP_CHOWN").endCapabilities().build())
                .endContainer().endSpec().build();
        assertThat(of(p).setprivArguments()).containsExactly("--reuid=2000", "--regid=1000", "--clear-groups",
                "--inh-caps=-net_raw,-chown", "--bounding-set=-net_raw,-chown");
    }

    @Test
    void runAsNonRootWithoutANumericUserCannotBeVerifiedAsAKubeletSays() {
        Pod p = pod().editSpec().withSecurityContext(new PodSecurityContextBuilder().withRunAsNonRoot(true).build())
                .endSpec().build();
        assertThatThrownBy(() -> of(p)).isInstanceOfSatisfying(ConfigError.class,
                e -> assertThat(e.reason).isEqualTo("CreateContainerConfigError"))
                .hasMessageContaining("runAsNonRoot").hasMessageContaining("set runAsUser")
                .hasMessageContaining("container: main");
    }

    @Test
    void runAsNonRootWithUserZeroBreaksTheNonRootPolicy() {
        Pod p = pod().editSpec().withSecurityContext(new PodSecurityContextBuilder().withRunAsNonRoot(true)
                .withRunAsUser(0L).withRunAsGroup(0L).build()).endSpec().build();
        assertThatThrownBy(() -> of(p)).isInstanceOf(ConfigError.class)
                .hasMessageStartingWith("container's runAsUser breaks non-root policy (pod: \"p_ns(u-1)\"");
    }

    @Test
    void whatTheImageWouldDecideOrPrivilegeIsRefusedAsUnsupported() {
        Pod noGroup = pod().editSpec().withSecurityContext(new PodSecurityContextBuilder().withRunAsUser(5L).build())
                .endSpec().build();
        assertThatThrownBy(() -> of(noGroup)).isInstanceOfSatisfying(StartFailure.class,
                e -> assertThat(e.reason).isEqualTo("TestKubeletUnsupported")).hasMessageContaining("runAsGroup");
        Pod adds = pod().editSpec().editFirstContainer().withSecurityContext(new SecurityContextBuilder()
                .withNewCapabilities().withAdd("NET_ADMIN").endCapabilities().build()).endContainer().endSpec().build();
        assertThatThrownBy(() -> of(adds)).isInstanceOf(StartFailure.class).hasMessageContaining("NET_ADMIN");
        Pod privileged = pod().editSpec().editFirstContainer().withSecurityContext(new SecurityContextBuilder()
                .withPrivileged(true).build()).endContainer().endSpec().build();
        assertThatThrownBy(() -> of(privileged)).isInstanceOf(StartFailure.class).hasMessageContaining("privileged");
    }
}
