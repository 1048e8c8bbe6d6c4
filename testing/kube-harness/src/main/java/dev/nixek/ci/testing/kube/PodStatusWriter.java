package dev.nixek.ci.testing.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.HostIP;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes pod status the way a kubelet does: read the pod, change its status, PUT it to {@code /status} with the
 * resourceVersion read (a 409 means read again). The static methods are the changes: waiting, running,
 * terminated, failed to start, with the pod conditions and container statuses of each.
 */
final class PodStatusWriter {

    private static final Logger LOG = LoggerFactory.getLogger(PodStatusWriter.class);

    private final KubernetesClient client;

    PodStatusWriter(KubernetesClient client) {
        this.client = client;
    }

    /**
     * Reads the pod, applies {@code change} to its status and PUTs it to {@code /status} with the
     * resourceVersion read; a 409 (someone else wrote in between) means read again and apply again.
     */
    void update(PodRun r, Consumer<PodStatus> change) {
        if (r.gone) {
            return;
        }
        for (int attempt = 1; attempt <= 20; attempt++) {
            try {
                Pod current = client.pods().inNamespace(r.namespace).withName(r.name).get();
                if (current == null || !r.uid.equals(current.getMetadata().getUid())) {
                    return;
                }
                if (current.getStatus() == null) {
                    current.setStatus(new PodStatus());
                }
                change.accept(current.getStatus());
                client.pods().inNamespace(r.namespace).resource(current).updateStatus();
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409) {
                    LOG.debug("pod {}: status conflict, reading again", r.key);
                    continue;
                }
                if (e.getCode() == 404) {
                    return;
                }
                LOG.warn("pod {}: cannot write status: {}", r.key, e.getMessage());
                return;
            }
        }
        LOG.warn("pod {}: status still conflicting after 20 attempts", r.key);
    }

    static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }

    private static String ts(Instant i) {
        return i.toString();
    }

    private static void hostAndIps(PodStatus s) {
        s.setHostIP(TestKubelet.LOCALHOST);
        s.setHostIPs(List.of(new HostIP(TestKubelet.LOCALHOST)));
        s.setPodIP(TestKubelet.LOCALHOST);
        s.setPodIPs(List.of(new PodIP(TestKubelet.LOCALHOST)));
    }

    private static void conditions(PodStatus s, boolean ready, String reason, Instant at) {
        Map<String, PodCondition> byType = new LinkedHashMap<>();
        if (s.getConditions() != null) {
            for (PodCondition c : s.getConditions()) {
                byType.put(c.getType(), c);
            }
        }
        setCondition(byType, "PodReadyToStartContainers", true, null, at);
        setCondition(byType, "Initialized", true, null, at);
        setCondition(byType, "Ready", ready, reason, at);
        setCondition(byType, "ContainersReady", ready, reason, at);
        setCondition(byType, "PodScheduled", true, null, at);
        s.setConditions(new ArrayList<>(byType.values()));
    }

    private static void setCondition(Map<String, PodCondition> byType, String type, boolean value, String reason,
            Instant at) {
        String status = value ? "True" : "False";
        PodCondition old = byType.get(type);
        if (old != null && status.equals(old.getStatus()) && Objects.equals(reason, old.getReason())) {
            return;
        }
        byType.put(type, new PodConditionBuilder().withType(type).withStatus(status).withReason(reason)
                .withLastTransitionTime(ts(at)).build());
    }

    private static ContainerStatusBuilder containerStatus(Pod pod) {
        Container c = pod.getSpec().getContainers().get(0);
        return new ContainerStatusBuilder().withName(c.getName()).withImage(c.getImage()).withImageID("")
                .withRestartCount(0);
    }

    static void waiting(PodStatus s, Pod pod, String reason, String message) {
        s.setPhase("Pending");
        hostAndIps(s);
        ContainerStatus cs = containerStatus(pod).withReady(false).withStarted(false)
                .withState(new ContainerStateBuilder().withNewWaiting().withReason(reason).withMessage(message)
                        .endWaiting().build())
                .build();
        s.setContainerStatuses(List.of(cs));
    }

    static void running(PodStatus s, Pod pod, long pid, Instant startedAt) {
        s.setPhase("Running");
        if (s.getStartTime() == null) {
            s.setStartTime(ts(startedAt));
        }
        hostAndIps(s);
        conditions(s, true, null, startedAt);
        s.setContainerStatuses(List.of(containerStatus(pod).withContainerID("testkubelet://" + pid)
                .withReady(true).withStarted(true)
                .withState(new ContainerStateBuilder().withNewRunning().withStartedAt(ts(startedAt)).endRunning()
                        .build())
                .build()));
    }

    static void terminated(PodStatus s, Pod pod, long pid, int exitCode, String reason, String message,
            Instant startedAt, Instant finishedAt) {
        s.setPhase(exitCode == 0 ? "Succeeded" : "Failed");
        if (s.getStartTime() == null) {
            s.setStartTime(ts(startedAt));
        }
        hostAndIps(s);
        conditions(s, false, "PodCompleted", finishedAt);
        s.setContainerStatuses(List.of(containerStatus(pod).withContainerID("testkubelet://" + pid)
                .withReady(false).withStarted(false)
                .withState(new ContainerStateBuilder().withNewTerminated().withExitCode(exitCode).withReason(reason)
                        .withMessage(message.isEmpty() ? null : message)
                        .withStartedAt(ts(startedAt)).withFinishedAt(ts(finishedAt))
                        .withContainerID("testkubelet://" + pid).endTerminated().build())
                .build()));
    }

    static void startFailed(PodStatus s, Pod pod, String reason, String message, Instant at) {
        s.setPhase("Failed");
        if (s.getStartTime() == null) {
            s.setStartTime(ts(at));
        }
        if (reason.startsWith("TestKubelet")) {
            s.setReason(reason);
            s.setMessage(message);
        }
        hostAndIps(s);
        conditions(s, false, "PodCompleted", at);
        s.setContainerStatuses(List.of(containerStatus(pod).withReady(false).withStarted(false)
                .withState(new ContainerStateBuilder().withNewTerminated().withExitCode(128)
                        .withReason(reason.startsWith("TestKubelet") ? "StartError" : reason)
                        .withMessage(message).withStartedAt(ts(at)).withFinishedAt(ts(at)).endTerminated().build())
                .build()));
    }
}
