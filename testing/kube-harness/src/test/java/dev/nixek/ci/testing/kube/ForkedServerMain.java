package dev.nixek.ci.testing.kube;

/**
 * Run in a separate JVM by {@link KubeApiServerLifecycleTest}: starts a server, prints
 * {@code PIDS <etcd> <kube-apiserver> <work dir>} and then either exits without closing it ({@code exit}: the
 * shutdown hook must stop it) or waits to be killed ({@code wait}: the watchdog must stop it).
 */
public final class ForkedServerMain {

    private ForkedServerMain() {
    }

    public static void main(String[] args) throws Exception {
        KubeApiServer kube = KubeApiServer.builder().ci(true).start();
        System.out.println("PIDS " + kube.etcdPid() + " " + kube.apiServerPid() + " " + kube.workDir());
        System.out.flush();
        if ("exit".equals(args[0])) {
            System.exit(0);
        }
        Thread.sleep(Long.MAX_VALUE);
    }
}
