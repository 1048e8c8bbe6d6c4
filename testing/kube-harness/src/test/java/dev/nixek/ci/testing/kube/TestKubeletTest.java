package dev.nixek.ci.testing.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(KubeApiServerExtension.class)
class TestKubeletTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    /** A pod whose only container runs {@code sh -c script}; image "ignored:latest". */
    private static PodBuilder shPod(String name, String script) {
        return new PodBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withRestartPolicy("Never")
                .addNewContainer().withName("main").withImage("ignored:latest")
                .withCommand("/bin/sh", "-c", script).endContainer()
                .endSpec();
    }

    private static Pod awaitPhase(KubernetesClient client, String ns, String name, String... phases) {
        return await().atMost(WAIT).until(() -> client.pods().inNamespace(ns).withName(name).get(),
                p -> p != null && p.getStatus() != null && List.of(phases).contains(p.getStatus().getPhase()));
    }

    private static ContainerStateTerminated terminated(Pod pod) {
        return pod.getStatus().getContainerStatuses().get(0).getState().getTerminated();
    }

    @Test
    void terminationLogAndExitCodeEndUpInThePodStatus(KubernetesClient client, TestNamespace ns, TestKubelet kubelet) {
        client.pods().inNamespace(ns.name()).resource(shPod("fails",
                "echo some output; printf 'went wrong: %s' \"$0\" > /dev/termination-log; exit 3").build()).create();

        Pod pod = awaitPhase(client, ns.name(), "fails", "Succeeded", "Failed");
        assertThat(pod.getStatus().getPhase()).isEqualTo("Failed");
        ContainerStateTerminated t = terminated(pod);
        assertThat(t.getExitCode()).isEqualTo(3);
        assertThat(t.getReason()).isEqualTo("Error");
        assertThat(t.getMessage()).isEqualTo("went wrong: /bin/sh");
        assertThat(t.getStartedAt()).isNotNull();
        assertThat(t.getFinishedAt()).isNotNull();
        assertThat(pod.getSpec().getNodeName()).isEqualTo(kubelet.nodeName());
        assertThat(pod.getStatus().getHostIP()).isEqualTo("127.0.0.1");
        assertThat(pod.getStatus().getPodIP()).isEqualTo("127.0.0.1");
        assertThat(pod.getStatus().getStartTime()).isNotNull();
        assertThat(kubelet.started()).containsExactly("fails");
        assertThat(kubelet.logs(ns.name(), "fails")).isEqualTo("some output\n");
    }

    @Test
    void containerPathsInArgsAreRewrittenAndASuccessIsCompleted(KubernetesClient client, TestNamespace ns,
            TestKubelet kubelet) {
        client.configMaps().inNamespace(ns.name()).resource(new ConfigMapBuilder().withNewMetadata()
                .withName("job").endMetadata().addToData("job.nix", "{ x = 1; }").build()).create();
        // "tool --out /dev/termination-log --in /nixek/job.nix", with cp as the tool
        client.pods().inNamespace(ns.name()).resource(new PodBuilder().withNewMetadata().withName("copy")
                .endMetadata().withNewSpec().withRestartPolicy("Never")
                .addNewContainer().withName("tool").withImage("ignored").withCommand("cp")
                .withArgs("/nixek/job.nix", "/dev/termination-log")
                .addNewVolumeMount().withName("job").withMountPath("/nixek").endVolumeMount().endContainer()
                .addNewVolume().withName("job").withNewConfigMap().withName("job").endConfigMap().endVolume()
                .endSpec().build()).create();

        Pod pod = awaitPhase(client, ns.name(), "copy", "Succeeded", "Failed");
        assertThat(pod.getStatus().getPhase()).isEqualTo("Succeeded");
        assertThat(terminated(pod).getExitCode()).isZero();
        assertThat(terminated(pod).getReason()).isEqualTo("Completed");
        assertThat(terminated(pod).getMessage()).isEqualTo("{ x = 1; }");
    }

    /**
     * Builder and evaluation pods mount an emptyDir at /nix: there it is bind-mounted at /nix itself (store paths in
     * arguments keep their meaning), so the pod has its own empty store, not the host's.
     */
    @Test
    void aVolumeAtNixIsThePodsOwnAndLeavesNixPathsAlone(KubernetesClient client, TestNamespace ns,
            TestKubelet kubelet) {
        client.pods().inNamespace(ns.name()).resource(new PodBuilder().withNewMetadata().withName("nix")
                .endMetadata().withNewSpec().withRestartPolicy("Never")
                .addNewContainer().withName("tool").withImage("ignored").withCommand("sh")
                .withArgs("-c", "printf '%s %s' /nix/store/x.drv \"$(ls -A /nix)\" > /dev/termination-log")
                .addNewVolumeMount().withName("store").withMountPath("/nix").endVolumeMount().endContainer()
                .addNewVolume().withName("store").withNewEmptyDir().endEmptyDir().endVolume()
                .endSpec().build()).create();

        Pod pod = awaitPhase(client, ns.name(), "nix", "Succeeded", "Failed");
        assertThat(pod.getStatus().getPhase()).isEqualTo("Succeeded");
        assertThat(terminated(pod).getMessage()).isEqualTo("/nix/store/x.drv ");
    }

    /** The pod spec of a non-root container reading its 0400 token Secret, as the evaluation pod once had it. */
    private static PodBuilder tokenReader(String name, Long fsGroup) {
        return new PodBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec()
                .withRestartPolicy("Never")
                .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(65532L).withRunAsGroup(65532L)
                .withFsGroup(fsGroup).withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .endSecurityContext()
                .addNewContainer().withName("main").withImage("ignored").withCommand("/bin/sh")
                .withArgs("-c", "echo \"$(id -u):$(id -g) groups $(id -G)\"; cat /token/token; echo;"
                        + " touch /token/new 2>&1 || echo token volume read-only;"
                        + " touch /store/made && stat -c '%n %a %g' /store /store/made")
                .withNewSecurityContext().withAllowPrivilegeEscalation(false).withNewCapabilities().withDrop("ALL")
                .endCapabilities().endSecurityContext()
                .addNewVolumeMount().withName("token").withMountPath("/token").withReadOnly(true).endVolumeMount()
                .addNewVolumeMount().withName("store").withMountPath("/store").endVolumeMount()
                .endContainer()
                .addNewVolume().withName("token").withNewSecret().withSecretName("token").withDefaultMode(0400)
                .endSecret().endVolume()
                .addNewVolume().withName("store").withNewEmptyDir().endEmptyDir().endVolume()
                .endSpec();
    }

    private static void tokenSecret(KubernetesClient client, TestNamespace ns) {
        client.secrets().inNamespace(ns.name()).resource(new SecretBuilder().withNewMetadata().withName("token")
                .endMetadata().addToStringData("token", "s3cr3t").build()).create();
    }

    /** What a kubelet does to this pod: uid 65532 is not the owner of the root:root 0400 file, so it cannot read it. */
    @Test
    void aSecretOfMode0400WithoutFsGroupIsUnreadableForANonRootPodWhichFails(KubernetesClient client,
            TestNamespace ns, TestKubelet kubelet) {
        tokenSecret(client, ns);
        client.pods().inNamespace(ns.name()).resource(tokenReader("no-fsgroup", null).editSpec()
                .editFirstContainer().withArgs("-c", "id -u; exec cat /token/token").endContainer().endSpec()
                .build()).create();

        Pod pod = awaitPhase(client, ns.name(), "no-fsgroup", "Succeeded", "Failed");
        assertThat(pod.getStatus().getPhase()).isEqualTo("Failed");
        assertThat(terminated(pod).getExitCode()).isEqualTo(1);
        // (paths in arguments are rewritten to the pod's host directory)
        assertThat(kubelet.logs(ns.name(), "no-fsgroup")).matches("65532\ncat: /\\S+/volumes/token/token:"
                + " Permission denied\n");
    }

    /** With fsGroup the kubelet makes the file 0440 root:fsGroup; the pod's groups include fsGroup. */
    @Test
    void withFsGroupTheSecretIsReadableReadOnlyAndTheEmptyDirWritableByTheGroup(KubernetesClient client,
            TestNamespace ns, TestKubelet kubelet) {
        tokenSecret(client, ns);
        client.pods().inNamespace(ns.name()).resource(tokenReader("fsgroup", 65532L).build()).create();

        Pod pod = awaitPhase(client, ns.name(), "fsgroup", "Succeeded", "Failed");
        assertThat(pod.getStatus().getPhase()).as(kubelet.logs(ns.name(), "fsgroup")).isEqualTo("Succeeded");
        List<String> lines = kubelet.logs(ns.name(), "fsgroup").lines().toList();
        assertThat(lines).hasSize(6);
        assertThat(lines.subList(0, 2)).containsExactly("65532:65532 groups 65532", "s3cr3t");
        assertThat(lines.get(2)).matches("touch: cannot touch '/\\S+/volumes/token/new': Read-only file system");
        assertThat(lines.get(3)).isEqualTo("token volume read-only");
        assertThat(lines.get(4)).matches("/\\S+/volumes/store 2777 65532");
        assertThat(lines.get(5)).matches("/\\S+/volumes/store/made 644 65532");
    }

    @Test
    void runAsNonRootThatCannotBeVerifiedOrIsRootLeavesThePodPendingWithCreateContainerConfigError(
            KubernetesClient client, TestNamespace ns, TestKubelet kubelet) {
        client.pods().inNamespace(ns.name()).resource(shPod("unknown-user", "true").editSpec().withNewSecurityContext()
                .withRunAsNonRoot(true).endSecurityContext().endSpec().build()).create();
        client.pods().inNamespace(ns.name()).resource(shPod("root", "true").editSpec().withNewSecurityContext()
                .withRunAsNonRoot(true).withRunAsUser(0L).withRunAsGroup(0L).endSecurityContext().endSpec().build())
                .create();

        for (String name : List.of("unknown-user", "root")) {
            Pod pod = await().atMost(WAIT).until(() -> client.pods().inNamespace(ns.name()).withName(name).get(),
                    p -> p.getStatus() != null && p.getStatus().getContainerStatuses() != null
                            && !p.getStatus().getContainerStatuses().isEmpty());
            assertThat(pod.getStatus().getPhase()).isEqualTo("Pending");
            ContainerStateWaiting w = pod.getStatus().getContainerStatuses().get(0).getState().getWaiting();
            assertThat(w.getReason()).isEqualTo("CreateContainerConfigError");
            assertThat(w.getMessage()).contains(name.equals("root") ? "breaks non-root policy" : "set runAsUser");
        }
        assertThat(kubelet.started()).isEmpty();
    }

    @Test
    void readsAConfigMapFileAndAnEnvVarFromASecret(KubernetesClient client, TestNamespace ns, TestKubelet kubelet) {
        client.configMaps().inNamespace(ns.name()).resource(new ConfigMapBuilder().withNewMetadata()
                .withName("settings").endMetadata().addToData("greeting", "hello from a configmap").build()).create();
        client.secrets().inNamespace(ns.name()).resource(new SecretBuilder().withNewMetadata()
                .withName("creds").endMetadata().addToStringData("token", "s3cr3t").build()).create();
        client.pods().inNamespace(ns.name()).resource(shPod("reader",
                "cat /etc/settings/greeting; echo; echo \"token=$TOKEN pod=$POD ns=$(NS) work=$(pwd)\"")
                .editSpec().editFirstContainer()
                .withWorkingDir("/work")
                .addNewEnv().withName("TOKEN").withNewValueFrom().withNewSecretKeyRef("token", "creds", false)
                .endValueFrom().endEnv()
                .addNewEnv().withName("POD").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name")
                .endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("NS").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.namespace")
                .endFieldRef().endValueFrom().endEnv()
                .addNewVolumeMount().withName("settings").withMountPath("/etc/settings").endVolumeMount()
                .endContainer()
                .addNewVolume().withName("settings").withNewConfigMap().withName("settings").endConfigMap().endVolume()
                .endSpec().build()).create();

        Pod pod = awaitPhase(client, ns.name(), "reader", "Succeeded", "Failed");
        String log = kubelet.logs(ns.name(), "reader");
        assertThat(pod.getStatus().getPhase()).as(log).isEqualTo("Succeeded");
        assertThat(log).startsWith("hello from a configmap\n")
                .contains("token=s3cr3t pod=reader ns=" + ns.name() + " work="
                        + kubelet.podDir(ns.name(), "reader").resolve("workdir"));
    }

    @Test
    void fallbackToLogsOnErrorUsesTheEndOfTheOutput(KubernetesClient client, TestNamespace ns, TestKubelet kubelet) {
        client.pods().inNamespace(ns.name()).resource(shPod("noisy",
                "i=1; while [ $i -le 100 ]; do echo line $i; i=$((i+1)); done; exit 1")
                .editSpec().editFirstContainer().withTerminationMessagePolicy("FallbackToLogsOnError").endContainer()
                .endSpec().build()).create();
        client.pods().inNamespace(ns.name()).resource(shPod("quiet-ok", "echo fine")
                .editSpec().editFirstContainer().withTerminationMessagePolicy("FallbackToLogsOnError").endContainer()
                .endSpec().build()).create();

        Pod noisy = awaitPhase(client, ns.name(), "noisy", "Succeeded", "Failed");
        String message = terminated(noisy).getMessage();
        assertThat(message).startsWith("line 21\n").endsWith("line 100\n");
        assertThat(message.split("\n")).hasSize(80);
        // only on error: a success keeps an empty message
        Pod ok = awaitPhase(client, ns.name(), "quiet-ok", "Succeeded", "Failed");
        assertThat(terminated(ok).getMessage()).isNull();
    }

    @Test
    void deletingARunningPodKillsItsProcessTree(KubernetesClient client, TestNamespace ns, TestKubelet kubelet) {
        client.pods().inNamespace(ns.name()).resource(shPod("sleeper", "sleep 600 & echo started; wait").build())
                .create();
        Pod running = awaitPhase(client, ns.name(), "sleeper", "Running");
        assertThat(running.getStatus().getContainerStatuses().get(0).getState().getRunning()).isNotNull();
        await().atMost(WAIT).until(() -> kubelet.logs(ns.name(), "sleeper").contains("started"));
        long pid = kubelet.pid(ns.name(), "sleeper").orElseThrow();
        ProcessHandle sh = ProcessHandle.of(pid).orElseThrow();
        List<ProcessHandle> tree = new ArrayList<>(sh.descendants().toList());
        tree.add(sh);
        assertThat(tree).hasSizeGreaterThanOrEqualTo(2);

        client.pods().inNamespace(ns.name()).withName("sleeper").delete();

        await().atMost(WAIT).until(() -> tree.stream().allMatch(Processes::isGone));
        // the kubelet's final delete: the pod is gone, not left Terminating
        await().atMost(WAIT).until(() -> client.pods().inNamespace(ns.name()).withName("sleeper").get() == null);
        assertThat(kubelet.isRunning(ns.name(), "sleeper")).isFalse();
    }

    @Test
    void aMissingCommandIsAStartError(KubernetesClient client, TestNamespace ns, TestKubelet kubelet) {
        client.pods().inNamespace(ns.name()).resource(new PodBuilder().withNewMetadata().withName("nocmd")
                .endMetadata().withNewSpec().withRestartPolicy("Never").addNewContainer().withName("c")
                .withImage("ignored").withCommand("no-such-command-here").endContainer().endSpec().build()).create();

        Pod pod = awaitPhase(client, ns.name(), "nocmd", "Failed");
        assertThat(terminated(pod).getExitCode()).isEqualTo(128);
        assertThat(terminated(pod).getReason()).isEqualTo("StartError");
        assertThat(terminated(pod).getMessage()).contains("no-such-command-here");
        assertThat(kubelet.started()).isEmpty();
    }

    @Test
    void aPodWaitsPendingForItsConfigMap(KubernetesClient client, TestNamespace ns, TestKubelet kubelet) {
        client.pods().inNamespace(ns.name()).resource(shPod("waits", "cat /cfg/value")
                .editSpec().editFirstContainer()
                .addNewVolumeMount().withName("cfg").withMountPath("/cfg").endVolumeMount().endContainer()
                .addNewVolume().withName("cfg").withNewConfigMap().withName("later").endConfigMap().endVolume()
                .endSpec().build()).create();

        Pod pending = await().atMost(WAIT).until(() -> client.pods().inNamespace(ns.name()).withName("waits").get(),
                p -> p.getStatus().getContainerStatuses() != null && !p.getStatus().getContainerStatuses().isEmpty());
        assertThat(pending.getStatus().getPhase()).isEqualTo("Pending");
        ContainerStateWaiting waiting = pending.getStatus().getContainerStatuses().get(0).getState().getWaiting();
        assertThat(waiting.getReason()).isEqualTo("ContainerCreating");
        assertThat(waiting.getMessage()).contains("configmap \"later\" not found");
        assertThat(kubelet.started()).isEmpty();

        client.configMaps().inNamespace(ns.name()).resource(new ConfigMapBuilder().withNewMetadata()
                .withName("later").endMetadata().addToData("value", "arrived").build()).create();
        Pod done = awaitPhase(client, ns.name(), "waits", "Succeeded", "Failed");
        assertThat(done.getStatus().getPhase()).isEqualTo("Succeeded");
        assertThat(kubelet.logs(ns.name(), "waits")).isEqualTo("arrived");
    }

    @Test
    void anOnStartHookCanMakeAPodCrashAndTwoKubeletsDoNotRunAPodTwice(KubeApiServer kube, TestNamespace ns) {
        KubernetesClient client = kube.client();
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (TestKubelet a = TestKubelet.builder(client).namespace(ns.name()).nodeName("node-a")
                .onStart(launch -> {
                    seen.add(launch.name());
                    if (launch.name().startsWith("crash")) {
                        throw new IllegalStateException("simulated crash");
                    }
                    assertThat(launch.hostPath("/dev/termination-log"))
                            .isEqualTo(launch.podDir().resolve("termination-log").toString());
                }).start();
                TestKubelet b = TestKubelet.builder(client).namespace(ns.name()).nodeName("node-b").start()) {
            client.pods().inNamespace(ns.name()).resource(shPod("crash-1", "echo never").build()).create();
            Pod crashed = awaitPhase(client, ns.name(), "crash-1", "Failed", "Succeeded");
            if ("node-a".equals(crashed.getSpec().getNodeName())) {
                assertThat(crashed.getStatus().getPhase()).isEqualTo("Failed");
                assertThat(terminated(crashed).getReason()).isEqualTo("StartError");
                assertThat(terminated(crashed).getMessage()).contains("simulated crash");
            } else {
                assertThat(crashed.getSpec().getNodeName()).isEqualTo("node-b");
                assertThat(crashed.getStatus().getPhase()).isEqualTo("Succeeded");
            }
            for (int i = 0; i < 4; i++) {
                client.pods().inNamespace(ns.name()).resource(shPod("p" + i, "echo $HOSTNAME").build()).create();
            }
            for (int i = 0; i < 4; i++) {
                awaitPhase(client, ns.name(), "p" + i, "Succeeded");
            }
            List<String> all = new ArrayList<>(a.started());
            all.addAll(b.started());
            // every pod ran exactly once, on one of the two
            assertThat(all.stream().filter(n -> n.startsWith("p"))).containsExactlyInAnyOrder("p0", "p1", "p2", "p3");
            assertThat(Map.of("a", a.started(), "b", b.started()).values()).doesNotContainNull();
        }
    }
}
