package dev.nixek.ci.testing.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The real apiserver does what the fabric8 mock does not: SSA, RBAC, resourceVersion checks on /status. */
@ExtendWith(KubeApiServerExtension.class)
class KubeApiServerTest {

    @BeforeAll
    static void crd(KubeApiServer kube) throws Exception {
        Path crd = Path.of(KubeApiServerTest.class.getResource("/widget-crd.yaml").toURI());
        kube.applyServerSide(crd);
        await().atMost(Duration.ofSeconds(30)).until(() -> established(kube.client()));
    }

    private static boolean established(KubernetesClient client) {
        CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions()
                .withName("widgets.test.nixek.dev").get();
        return crd != null && crd.getStatus() != null && crd.getStatus().getConditions().stream()
                .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList,
            Resource<GenericKubernetesResource>> widgets(KubernetesClient client) {
        return client.genericKubernetesResources("test.nixek.dev/v1", "Widget");
    }

    private static GenericKubernetesResource widget(String name, int size) {
        return new GenericKubernetesResourceBuilder().withApiVersion("test.nixek.dev/v1").withKind("Widget")
                .withNewMetadata().withName(name).endMetadata()
                .withAdditionalProperties(Map.of("spec", Map.of("size", size, "color", "red")))
                .build();
    }

    @Test
    void readyzAnswersOkWithTheAdminToken(KubeApiServer kube) throws Exception {
        HttpResponse<String> r = KubeApiServer.insecureHttpClient().send(
                HttpRequest.newBuilder(URI.create(kube.url() + "/readyz"))
                        .header("Authorization", "Bearer " + kube.adminToken()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok");
        assertThat(kube.url()).startsWith("https://127.0.0.1:");
        assertThat(kube.apiServerStartupMillis()).isPositive();
        System.out.println("kube-apiserver ready in " + kube.apiServerStartupMillis() + " ms (with etcd "
                + kube.startupMillis() + " ms)");
    }

    @Test
    void reportsTheBuiltVersions(KubeApiServer kube) {
        Map<String, String> v = kube.versions();
        assertThat(v).containsKeys("kube-apiserver", "etcd");
        assertThat(kube.client().getKubernetesVersion().getGitVersion()).isEqualTo(v.get("kube-apiserver"));
    }

    @Test
    void kubectlWorksWithTheWrittenKubeconfig(KubeApiServer kube) throws Exception {
        assertThat(Files.readString(kube.kubeconfig())).contains("insecure-skip-tls-verify: true", kube.url());
        CommandResult r = kube.kubectl("get", "ns", "-o", "name").orThrow();
        assertThat(r.stdout()).contains("namespace/default", "namespace/kube-system");
        assertThat(kube.kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}").orThrow().stdout())
                .contains("system:masters");
        CommandResult bad = kube.kubectl("get", "nosuchkind");
        assertThat(bad.exitCode()).isNotZero();
        assertThat(bad.stderr()).contains("nosuchkind");
    }

    @Test
    void aCustomResourceOfTheAppliedCrdCanBeCreated(KubeApiServer kube, TestNamespace ns) {
        GenericKubernetesResource created = widgets(kube.client()).inNamespace(ns.name())
                .resource(widget("w1", 3)).create();
        assertThat(created.getMetadata().getUid()).isNotBlank();
        assertThat(kube.kubectl("get", "widgets", "-n", ns.name(), "-o", "name").orThrow().stdout())
                .contains("widget.test.nixek.dev/w1");
    }

    @Test
    void serverSideApplyTracksFieldManagersAndReportsConflicts(KubeApiServer kube, TestNamespace ns) {
        KubernetesClient client = kube.client();
        ConfigMap alice = new ConfigMapBuilder().withNewMetadata().withName("shared").withNamespace(ns.name())
                .endMetadata().addToData("a", "1").build();
        client.configMaps().inNamespace(ns.name()).resource(alice).fieldManager("alice").serverSideApply();

        ConfigMap bobTakesA = new ConfigMapBuilder().withNewMetadata().withName("shared").withNamespace(ns.name())
                .endMetadata().addToData("a", "2").build();
        assertThatThrownBy(() -> client.configMaps().inNamespace(ns.name()).resource(bobTakesA)
                .fieldManager("bob").serverSideApply())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(409);
                    assertThat(e.getMessage()).contains("conflict").contains("alice");
                });

        ConfigMap bob = new ConfigMapBuilder().withNewMetadata().withName("shared").withNamespace(ns.name())
                .endMetadata().addToData("b", "x").build();
        ConfigMap after = client.configMaps().inNamespace(ns.name()).resource(bob).fieldManager("bob")
                .serverSideApply();
        assertThat(after.getData()).containsEntry("a", "1").containsEntry("b", "x");
        List<String> managers = after.getMetadata().getManagedFields().stream()
                .map(ManagedFieldsEntry::getManager).toList();
        assertThat(managers).contains("alice", "bob");

        // with force, bob takes a over and alice no longer owns it
        ConfigMap forced = client.configMaps().inNamespace(ns.name()).resource(bobTakesA).fieldManager("bob")
                .forceConflicts().serverSideApply();
        assertThat(forced.getData()).containsEntry("a", "2");
        assertThat(forced.getMetadata().getManagedFields()).filteredOn(m -> m.getManager().equals("alice"))
                .allSatisfy(m -> assertThat(m.getFieldsV1().getAdditionalProperties().toString())
                        .doesNotContain("f:a"));
    }

    @Test
    void statusPutWithAStaleResourceVersionIsAConflict(KubeApiServer kube, TestNamespace ns) {
        var widgets = widgets(kube.client()).inNamespace(ns.name());
        GenericKubernetesResource stale = widgets.resource(widget("w2", 1)).create();

        GenericKubernetesResource fresh = widgets.withName("w2").get();
        fresh.setAdditionalProperty("status", Map.of("phase", "Ready", "observed", 1));
        GenericKubernetesResource updated = widgets.resource(fresh).updateStatus();
        assertThat(updated.getMetadata().getResourceVersion()).isNotEqualTo(stale.getMetadata().getResourceVersion());

        stale.setAdditionalProperty("status", Map.of("phase", "Stale"));
        assertThatThrownBy(() -> widgets.resource(stale).updateStatus())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
        assertThat(widgets.withName("w2").get().getAdditionalProperties().get("status"))
                .isEqualTo(Map.of("phase", "Ready", "observed", 1));
    }

    @Test
    void rbacDecidesWhatAServiceAccountMayDo(KubeApiServer kube, TestNamespace ns) {
        KubernetesClient reader = kube.clientFor(ns.name(), "reader");
        assertThatThrownBy(() -> reader.configMaps().inNamespace(ns.name()).list())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));

        KubernetesClient admin = kube.client();
        admin.rbac().roles().inNamespace(ns.name()).resource(new RoleBuilder().withNewMetadata()
                .withName("read-configmaps").endMetadata()
                .addNewRule().withApiGroups("").withResources("configmaps").withVerbs("get", "list").endRule()
                .build()).create();
        admin.rbac().roleBindings().inNamespace(ns.name()).resource(new RoleBindingBuilder().withNewMetadata()
                .withName("reader").endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role")
                .withName("read-configmaps").endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName("reader").withNamespace(ns.name()).endSubject()
                .build()).create();

        await().atMost(Duration.ofSeconds(10)).ignoreException(KubernetesClientException.class)
                .until(() -> reader.configMaps().inNamespace(ns.name()).list() != null);
        assertThatThrownBy(() -> reader.secrets().inNamespace(ns.name()).list())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
        assertThat(kube.kubectl("--kubeconfig=" + kube.kubeconfigFor(ns.name(), "reader"), "auth", "whoami", "-o",
                "jsonpath={.status.userInfo.username}").orThrow().stdout())
                .isEqualTo("system:serviceaccount:" + ns.name() + ":reader");
    }
}
