package dev.nixek.ci.testing.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.fabric8.kubernetes.client.KubernetesClient;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The static-field style; the server is the one every other class of this JVM uses. */
class KubeApiServerExtensionTest {

    @RegisterExtension
    static final KubeApiServerExtension KUBE = new KubeApiServerExtension();

    private static final Set<String> SEEN = ConcurrentHashMap.newKeySet();

    private TestNamespace fromBeforeEach;

    @BeforeEach
    void before(TestNamespace ns) {
        fromBeforeEach = ns;
        assertThat(SEEN.add(ns.name())).as("a fresh namespace per test: %s", ns).isTrue();
    }

    @Test
    void theStaticFieldAndParametersShareOneServerAndOneNamespacePerTest(KubeApiServer kube,
            KubernetesClient client, TestNamespace ns) {
        assertThat(KUBE.server()).isSameAs(kube);
        assertThat(KUBE.client()).isSameAs(client).isSameAs(kube.client());
        assertThat(ns).isEqualTo(fromBeforeEach);
        assertThat(ns.name()).startsWith("the-static-field-and-parameters-share-on");
        assertThat(client.namespaces().withName(ns.name()).get()).isNotNull();
        String other = KUBE.newNamespace("Other_Prefix");
        assertThat(other).startsWith("other-prefix-").isNotEqualTo(ns.name());
        assertThat(client.namespaces().withName(other).get()).isNotNull();
    }

    @Test
    void eachTestGetsItsOwnNamespace(TestNamespace ns) {
        assertThat(ns).isEqualTo(fromBeforeEach);
        assertThat(ns.name()).startsWith("each-test-gets-its-own-namespace-");
    }

    @Test
    void helmRunsAgainstTheServer(KubeApiServer kube) {
        assertThat(kube.helm("version", "--short").orThrow().stdout()).startsWith(kube.versions().get("helm"));
        assertThat(kube.helm("list", "--all-namespaces").orThrow().stdout()).contains("NAME");
    }
}
