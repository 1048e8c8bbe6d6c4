package dev.nixek.ci.testing.kube;

import dev.nixek.ci.testing.kube.PodStartErrors.ConfigError;
import dev.nixek.ci.testing.kube.PodStartErrors.MissingSource;
import dev.nixek.ci.testing.kube.PodStartErrors.StartFailure;
import dev.nixek.ci.testing.kube.PodStartErrors.Stopped;
import io.fabric8.kubernetes.api.model.BindingBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pod from binding to its end: bind it to the node (unless another kubelet did), prepare it (Pending while a
 * ConfigMap or Secret is missing), call the start hook, start the process, report running, wait, report its exit
 * with the termination message, and delete a gracefully deleted pod for good.
 */
final class PodRunner {

    private static final Logger LOG = LoggerFactory.getLogger(PodRunner.class);

    private final KubernetesClient client;
    private final String nodeName;
    private final TestKubelet.StartHook onStart;
    private final PodPreparation preparation;
    private final PodStatusWriter status;
    private final List<String> started;
    private final Map<String, PodRun> byName;

    PodRunner(KubernetesClient client, String nodeName, TestKubelet.StartHook onStart, boolean inheritEnvironment,
              List<String> started, Map<String, PodRun> byName) {
        this.client = client;
        this.nodeName = nodeName;
        this.onStart = onStart;
        this.preparation = new PodPreparation(client, inheritEnvironment);
        this.status = new PodStatusWriter(client);
        this.started = started;
        this.byName = byName;
    }

    /** Runs the pod to its end (on an executor thread); completes {@code r.done}. */
    void run(PodRun r, Pod pod) {
        Thread.currentThread().setName("test-kubelet " + r.key);
        Instant startedAt = null;
        try {
            if (pod.getSpec().getNodeName() == null || pod.getSpec().getNodeName().isEmpty()) {
                if (!bind(r)) {
                    return;
                }
            }
            r.bound = true;
            Container c = firstContainer(pod);
            warnAboutUnsupported(r, pod);
            Files.createDirectories(r.dir);
            PodLaunch launch = prepareWaiting(r, pod, c);
            if (onStart != null) {
                try {
                    onStart.beforeStart(launch);
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    throw new StartFailure("StartError", "start hook: " + e);
                }
            }
            List<String> cmd = new ArrayList<>(launch.command());
            cmd.set(0, PodPreparation.resolveExecutable(cmd.get(0), launch.environment(), launch.workingDir()));
            Files.createDirectories(launch.workingDir());
            cmd = launch.sandbox().wrap(cmd);
            Process p;
            try {
                p = r.start(cmd, launch.workingDir(), launch.environment());
            } catch (IOException e) {
                throw new StartFailure("StartError", "cannot start " + cmd.get(0) + ": " + e.getMessage());
            }
            if (p == null) {
                throw new Stopped();
            }
            startedAt = PodStatusWriter.now();
            started.add(r.name);
            LOG.info("pod {}: started pid {}: {}", r.key, p.pid(), launch.command());
            Instant runningSince = startedAt;
            status.update(r, s -> PodStatusWriter.running(s, pod, p.pid(), runningSince));
            int exit = p.waitFor();
            Instant finishedAt = PodStatusWriter.now();
            String message = terminationMessage(r, c, exit);
            LOG.info("pod {}: pid {} exited {}", r.key, p.pid(), exit);
            status.update(r, s -> PodStatusWriter.terminated(s, pod, p.pid(), exit, exit == 0 ? "Completed" : "Error", message,
                    runningSince, finishedAt));
        } catch (ConfigError e) {
            LOG.info("pod {}: cannot create the container: {}", r.key, e.getMessage());
            status.update(r, s -> PodStatusWriter.waiting(s, pod, e.reason, e.getMessage()));
        } catch (StartFailure e) {
            LOG.info("pod {}: cannot start: {}", r.key, e.getMessage());
            Instant at = PodStatusWriter.now();
            status.update(r, s -> PodStatusWriter.startFailed(s, pod, e.reason, e.getMessage(), at));
        } catch (Stopped | InterruptedException e) {
            if (!r.deletionRequested && !r.gone) { // stopped by close()
                Instant at = PodStatusWriter.now();
                status.update(r, s -> PodStatusWriter.startFailed(s, pod, "TestKubeletClosed",
                        "the test kubelet was closed before the container started", at));
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        } catch (Exception e) {
            LOG.error("pod {}: test kubelet failure", r.key, e);
            Instant at = PodStatusWriter.now();
            status.update(r, s -> PodStatusWriter.startFailed(s, pod, "TestKubeletError", e.toString(), at));
        } finally {
            try {
                if (r.bound && r.deletionRequested && !r.gone) {
                    finalDelete(r);
                }
            } finally {
                r.done.complete(null);
            }
        }
    }

    private boolean bind(PodRun r) {
        try {
            client.bindings().inNamespace(r.namespace).resource(new BindingBuilder()
                    .withNewMetadata().withName(r.name).withUid(r.uid).endMetadata()
                    .withNewTarget().withApiVersion("v1").withKind("Node").withName(nodeName).endTarget()
                    .build()).create();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409 || e.getCode() == 404) {
                LOG.debug("pod {} not bound to {} ({}): left alone", r.key, nodeName, e.getMessage());
                byName.remove(r.key, r);
                return false;
            }
            throw e;
        }
    }

    private static Container firstContainer(Pod pod) throws StartFailure {
        List<Container> cs = pod.getSpec().getContainers();
        if (cs == null || cs.isEmpty()) {
            throw new StartFailure("StartError", "the pod has no containers");
        }
        return cs.get(0);
    }

    private void warnAboutUnsupported(PodRun r, Pod pod) {
        if (pod.getSpec().getContainers().size() > 1) {
            LOG.warn("pod {}: the test kubelet runs only the first container ({}); {} more ignored", r.key,
                    pod.getSpec().getContainers().get(0).getName(), pod.getSpec().getContainers().size() - 1);
        }
        if (pod.getSpec().getInitContainers() != null && !pod.getSpec().getInitContainers().isEmpty()) {
            LOG.warn("pod {}: init containers are not run by the test kubelet", r.key);
        }
        String policy = pod.getSpec().getRestartPolicy();
        if (policy != null && !"Never".equals(policy)) {
            LOG.warn("pod {}: restartPolicy {} is not honoured: the test kubelet runs the container once", r.key,
                    policy);
        }
    }

    /** Prepares volumes, env and command; waits (Pending) while a ConfigMap/Secret/key is missing. */
    private PodLaunch prepareWaiting(PodRun r, Pod pod, Container c) throws Exception {
        String lastMessage = null;
        while (true) {
            if (r.stopRequested) {
                throw new Stopped();
            }
            try {
                return preparation.prepare(r, pod, c);
            } catch (MissingSource e) {
                if (!e.getMessage().equals(lastMessage)) {
                    lastMessage = e.getMessage();
                    LOG.info("pod {}: waiting: {}", r.key, e.getMessage());
                    status.update(r, s -> PodStatusWriter.waiting(s, pod, e.reason, e.getMessage()));
                }
                Thread.sleep(250);
            }
        }
    }

    /** The termination message: the file (first 4096 bytes), or the output's end under FallbackToLogsOnError. */
    private String terminationMessage(PodRun r, Container c, int exit) {
        String message = "";
        try {
            Path f = r.dir.resolve("termination-log");
            if (Files.exists(f)) {
                try (var in = Files.newInputStream(f)) {
                    message = new String(in.readNBytes(TestKubelet.MAX_MESSAGE_BYTES), StandardCharsets.UTF_8);
                }
            }
        } catch (IOException e) {
            LOG.warn("pod {}: cannot read the termination message", r.key, e);
        }
        if (message.isEmpty() && exit != 0 && "FallbackToLogsOnError".equals(c.getTerminationMessagePolicy())) {
            message = Processes.tail(r.logFile, TestKubelet.FALLBACK_LOG_LINES, TestKubelet.FALLBACK_LOG_BYTES);
        }
        return message;
    }

    private void finalDelete(PodRun r) {
        try {
            // the kubelet's last word on a gracefully deleted pod: delete it for good (this uid only)
            client.raw(client.getMasterUrl().toString().replaceAll("/$", "") + "/api/v1/namespaces/"
                    + r.namespace + "/pods/" + r.name, "DELETE", Map.of("apiVersion", "v1", "kind", "DeleteOptions",
                    "gracePeriodSeconds", 0, "preconditions", Map.of("uid", r.uid)));
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404 && e.getCode() != 409) {
                LOG.warn("pod {}: final delete failed", r.key, e);
            }
        }
    }
}
