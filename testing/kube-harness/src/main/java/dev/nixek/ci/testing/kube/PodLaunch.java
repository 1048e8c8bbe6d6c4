package dev.nixek.ci.testing.kube;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.fabric8.kubernetes.api.model.Pod;

/**
 * What {@link TestKubelet} is about to run for a pod, handed to its {@link TestKubelet.StartHook} just before
 * the process starts. Everything is already rewritten to host paths. The hook may change the command, the
 * environment and the working directory, sleep (a slow start: the pod stays Pending meanwhile) or throw (the
 * container fails to start: terminated, exit code 128, reason StartError, the exception's message).
 */
public final class PodLaunch {

    private final Pod pod;
    private final Path podDir;
    private final PathRewriter rewriter;
    private final List<String> command;
    private final Map<String, String> environment;
    private Path workingDir;
    private final ContainerSandbox sandbox;

    PodLaunch(Pod pod, Path podDir, PathRewriter rewriter, List<String> command, Map<String, String> environment,
            Path workingDir, ContainerSandbox sandbox) {
        this.sandbox = sandbox;
        this.pod = pod;
        this.podDir = podDir;
        this.rewriter = rewriter;
        this.command = command;
        this.environment = environment;
        this.workingDir = workingDir;
    }

    /** The pod as the kubelet saw it when it took it on (a copy). */
    public Pod pod() {
        return pod;
    }

    public String namespace() {
        return pod.getMetadata().getNamespace();
    }

    public String name() {
        return pod.getMetadata().getName();
    }

    /** The pod's directory on the host (volumes, termination-log, the log file). */
    public Path podDir() {
        return podDir;
    }

    /** The command line (command + args, expanded and rewritten); mutable. */
    public List<String> command() {
        return command;
    }

    /** The complete environment of the process; mutable. */
    public Map<String, String> environment() {
        return environment;
    }

    /** The working directory of the process. */
    public Path workingDir() {
        return workingDir;
    }

    public PodLaunch workingDir(Path dir) {
        this.workingDir = Objects.requireNonNull(dir);
        return this;
    }

    /** A container path as the process sees it on the host (e.g. {@code /dev/termination-log}). */
    public String hostPath(String containerPath) {
        return rewriter.rewrite(containerPath);
    }

    /** Mounts and user the process gets (applied around the command when it starts). */
    ContainerSandbox sandbox() {
        return sandbox;
    }

    /** The path rewriting in use. */
    public PathRewriter rewriter() {
        return rewriter;
    }
}
