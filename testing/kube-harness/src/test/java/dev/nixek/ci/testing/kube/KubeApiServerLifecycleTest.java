package dev.nixek.ci.testing.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

/** Start-up and, above all, stopping: nothing may be left running, whichever way the test JVM ends. */
class KubeApiServerLifecycleTest {

    @Test
    void aMissingBinarySkipsTheTestOrFailsItUnderCi(@TempDir Path emptyBinDir) {
        assertThatThrownBy(() -> KubeApiServer.builder().binDir(emptyBinDir).ci(false).start())
                .isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("etcd not found at " + emptyBinDir.resolve("etcd"))
                .hasMessageContaining("run hack/build-test-binaries.sh");
        assertThatThrownBy(() -> KubeApiServer.builder().binDir(emptyBinDir).ci(true).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("run hack/build-test-binaries.sh")
                .hasMessageContaining("CI=true");
    }

    @Test
    void theVersionsFileIsRead(@TempDir Path binDir) throws Exception {
        Files.writeString(binDir.resolve("VERSIONS"), "etcd v3.6.16 go1.26.8 116\nkube-apiserver v1.37.2 go1.26.8 398\n");
        assertThat(TestBinaries.locate(binDir, false).versions())
                .containsEntry("etcd", "v3.6.16").containsEntry("kube-apiserver", "v1.37.2");
    }

    @Test
    void closeStopsApiServerEtcdAndPodProcessesByPid() throws Exception {
        KubeApiServer kube = KubeApiServer.builder().ci(TestBinaries.isCi()).start();
        List<Long> pids = new ArrayList<>(List.of(kube.etcdPid(), kube.apiServerPid()));
        Path workDir = kube.workDir();
        KubernetesClient client = kube.client();
        String ns = kube.createUniqueNamespace("lifecycle");
        TestKubelet kubelet = TestKubelet.builder(client).namespace(ns).start();
        client.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withName("forever").endMetadata()
                .withNewSpec().withRestartPolicy("Never").addNewContainer().withName("c").withImage("ignored")
                .withCommand("/bin/sh", "-c", "sleep 600 & wait").endContainer().endSpec().build()).create();
        await().atMost(Duration.ofSeconds(20)).until(() -> kubelet.isRunning(ns, "forever")
                && ProcessHandle.of(kubelet.pid(ns, "forever").getAsLong()).map(p -> p.children().count() > 0)
                        .orElse(false));
        ProcessHandle sh = ProcessHandle.of(kubelet.pid(ns, "forever").getAsLong()).orElseThrow();
        pids.add(sh.pid());
        sh.descendants().forEach(p -> pids.add(p.pid()));
        assertThat(pids).hasSizeGreaterThanOrEqualTo(4);

        System.out.println("RSS after start-up and a pod: kube-apiserver " + rssKiB(kube.apiServerPid()) / 1024
                + " MiB, etcd " + rssKiB(kube.etcdPid()) / 1024 + " MiB");
        kubelet.close();
        Pod pod = client.pods().inNamespace(ns).withName("forever").get();
        assertThat(pod.getStatus().getPhase()).isEqualTo("Failed");
        assertThat(pod.getStatus().getContainerStatuses().get(0).getState().getTerminated().getExitCode())
                .isEqualTo(143); // SIGTERM

        long t0 = System.nanoTime();
        kube.close();
        long stopMillis = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("kube-apiserver + etcd stopped in " + stopMillis + " ms");
        for (long pid : pids) {
            assertThat(ProcessHandle.of(pid).map(Processes::isGone).orElse(true)).as("pid %d gone", pid).isTrue();
        }
        assertThat(workDir).doesNotExist();
        assertThat(kube.isRunning()).isFalse();
        kube.close(); // idempotent
        assertThatThrownBy(kube::url).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aJvmThatExitsOrIsKilledLeavesNothingRunning() throws Exception {
        TestBinaries.locate().require("kube-apiserver"); // skip (or fail under CI) before forking
        Process exits = fork("exit");
        Process killed = fork("wait");
        String[] exitsPids = pids(exits);
        String[] killedPids = pids(killed);

        // System.exit without close(): the shutdown hook stops both before the JVM ends
        assertThat(exits.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertGone(exitsPids, Duration.ofSeconds(1));

        // SIGKILL: no hook runs; the watchdog sees its stdin close and stops both, then deletes the work dir
        assertThat(ProcessHandle.of(Long.parseLong(killedPids[1]))).isPresent();
        killed.destroyForcibly();
        assertGone(killedPids, Duration.ofSeconds(30));
    }

    private static long rssKiB(long pid) throws Exception {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(l -> l.startsWith("VmRSS:")).map(l -> l.replaceAll("[^0-9]", "")).mapToLong(Long::parseLong)
                .findFirst().orElse(-1);
    }

    private static void assertGone(String[] pidsAndDir, Duration within) {
        await().atMost(within).untilAsserted(() -> {
            for (int i = 0; i < 2; i++) {
                long pid = Long.parseLong(pidsAndDir[i]);
                assertThat(ProcessHandle.of(pid).map(Processes::isGone).orElse(true)).as("pid %d gone", pid).isTrue();
            }
            assertThat(Path.of(pidsAndDir[2])).doesNotExist();
        });
    }

    private static Process fork(String mode) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return new ProcessBuilder(java, "-cp", cp, ForkedServerMain.class.getName(), mode)
                .redirectErrorStream(true).start();
    }

    /** Reads the child's output up to its PIDS line: etcd pid, kube-apiserver pid, work dir. */
    private static String[] pids(Process p) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        for (String line; (line = r.readLine()) != null; ) {
            if (line.startsWith("PIDS ")) {
                Thread drain = new Thread(() -> {
                    try {
                        r.transferTo(java.io.Writer.nullWriter());
                    } catch (java.io.IOException ignored) {
                        // gone
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return line.substring(5).split(" ");
            }
            seen.append(line).append('\n');
        }
        throw new AssertionError("the forked JVM ended without starting a server:\n" + seen);
    }
}
