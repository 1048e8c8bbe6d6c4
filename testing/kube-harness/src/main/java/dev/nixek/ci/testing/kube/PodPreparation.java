package dev.nixek.ci.testing.kube;

import dev.nixek.ci.testing.kube.PodStartErrors.MissingSource;
import dev.nixek.ci.testing.kube.PodStartErrors.StartFailure;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a pod's process gets: its volume mounts (as host paths, or bind mounts at in-place paths), working directory,
 * environment (host basics, service variables, envFrom, env with {@code valueFrom} and {@code $(VAR)} expansion, in
 * Kubernetes' order) and command line, all with container paths rewritten by {@link PathRewriter}; and the
 * {@link ContainerSandbox} that runs it as the pod's user.
 */
final class PodPreparation {

    /** Directories on the way to a pod's volumes: the pod's user may pass, not list. */
    private static final int TRAVERSE_ONLY = 0711;
    /**
     * What a pod's process gets from the host: basics, and NIX_CONF_DIR, the stand-in for the nix.conf an image
     * brings (test.sh points it at the tests' Nix configuration; see docs/testing.md).
     */
    private static final Set<String> HOST_ENV = Set.of("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL",
            "TZ", "TMPDIR", "SHELL", "NIX_CONF_DIR");

    private final KubernetesClient client;
    private final boolean inheritEnvironment;
    private final PodSources sources;
    private final PodVolumes podVolumes;

    PodPreparation(KubernetesClient client, boolean inheritEnvironment) {
        this.client = client;
        this.inheritEnvironment = inheritEnvironment;
        this.sources = new PodSources(client);
        this.podVolumes = new PodVolumes(client, sources);
    }

    /** Volumes, environment and command line of the pod's first container, rewritten to host paths. */
    PodLaunch prepare(PodRun r, Pod pod, Container c) throws Exception {
        PodSecurity security = PodSecurity.of(pod, c);
        boolean root = HostAccounts.isRoot();
        Path volumesDir = r.dir.resolve("volumes");
        Processes.deleteTree(volumesDir);
        Files.createDirectories(volumesDir);
        // the pod's user must reach its volumes (not list the kubelet's directories): traverse only
        VolumeOwnership.chmod(r.dir, TRAVERSE_ONLY);
        VolumeOwnership.chmod(volumesDir, TRAVERSE_ONLY);

        // volumes mounted by the first container
        Map<String, Volume> volumes = new HashMap<>();
        if (pod.getSpec().getVolumes() != null) {
            for (Volume v : pod.getSpec().getVolumes()) {
                volumes.put(v.getName(), v);
            }
        }
        Map<String, String> mounts = new LinkedHashMap<>();
        Map<String, Path> materialized = new HashMap<>();
        List<ContainerSandbox.Bind> binds = new ArrayList<>();
        List<Path> readOnly = new ArrayList<>();
        if (c.getVolumeMounts() != null) {
            for (VolumeMount m : c.getVolumeMounts()) {
                Volume v = volumes.get(m.getName());
                if (v == null) {
                    throw new StartFailure("StartError", "volumeMount " + m.getName() + ": no such volume");
                }
                boolean inPlace = TestKubelet.IN_PLACE_PATHS.contains(PathRewriter.normalize(m.getMountPath()));
                if (inPlace && !root) {
                    continue; // no mount namespace without root: the host's path stands in
                }
                Path host = materialized.get(v.getName());
                if (host == null) {
                    host = podVolumes.materialize(r, pod, v, volumesDir, security.fsGroup());
                    materialized.put(v.getName(), host);
                }
                if (m.getSubPath() != null && !m.getSubPath().isEmpty()) {
                    host = host.resolve(PodVolumes.checkRelative(m.getSubPath(), "subPath"));
                    if (!Files.exists(host)) {
                        Files.createDirectories(host); // like the kubelet: a missing subPath becomes a directory
                    }
                }
                boolean ro = Boolean.TRUE.equals(m.getReadOnly()) || PodVolumes.isApiData(v);
                if (inPlace) {
                    binds.add(new ContainerSandbox.Bind(host, PathRewriter.normalize(m.getMountPath())));
                    if (ro) {
                        readOnly.add(Path.of(PathRewriter.normalize(m.getMountPath())));
                    }
                    continue;
                }
                if (ro) {
                    readOnly.add(host); // (a hostPath too: read-only in the process's namespace only)
                }
                mounts.put(m.getMountPath(), host.toString());
            }
        }
        String tmPath = c.getTerminationMessagePath() == null ? "/dev/termination-log" : c.getTerminationMessagePath();
        Path tmFile = r.dir.resolve("termination-log");
        Files.write(tmFile, new byte[0]);
        VolumeOwnership.chmod(tmFile, 0666); // as the kubelet makes it: writable for any user the container runs as
        mounts.put(tmPath, tmFile.toString());
        PathRewriter mountsOnly = new PathRewriter(mounts);
        Path defaultWorkDir = r.dir.resolve("workdir");
        Path cwd;
        if (c.getWorkingDir() != null && !c.getWorkingDir().isBlank()) {
            if (mountsOnly.covers(c.getWorkingDir())) {
                cwd = Path.of(mountsOnly.rewrite(c.getWorkingDir()));
            } else {
                mounts.put(c.getWorkingDir(), defaultWorkDir.toString());
                cwd = defaultWorkDir;
            }
        } else {
            cwd = defaultWorkDir;
        }
        Files.createDirectories(defaultWorkDir);
        Path home = r.dir.resolve("home");
        if (security.uid() != null) {
            // an image's WORKDIR and home directory belong to its user; here they stand in for them
            VolumeOwnership.chown(defaultWorkDir, security.uid(), security.gid());
            Files.createDirectories(home);
            VolumeOwnership.chmod(home, 0700);
            VolumeOwnership.chown(home, security.uid(), security.gid());
        }
        PathRewriter rewriter = new PathRewriter(mounts);

        // environment: host basics, service variables, envFrom, env (Kubernetes' order), $(VAR) expansion
        Map<String, String> base = new LinkedHashMap<>();
        System.getenv().forEach((k, v) -> {
            if (inheritEnvironment || HOST_ENV.contains(k)) {
                base.put(k, v);
            }
        });
        if (security.uid() != null && security.uid() != HostAccounts.uid()) {
            // the host's HOME is not the pod user's (/root is 0700); nix and the JVM need a user name, which the
            // image's /etc/passwd would give (it is not read here)
            base.put("HOME", home.toString());
            String user = HostAccounts.name(security.uid()).orElse("uid" + security.uid());
            base.put("USER", user);
            base.put("LOGNAME", user);
        }
        base.put("HOSTNAME", r.name);
        URL master = client.getMasterUrl();
        if (master != null) {
            base.put("KUBERNETES_SERVICE_HOST", master.getHost());
            base.put("KUBERNETES_SERVICE_PORT", Integer.toString(master.getPort() > 0 ? master.getPort() : 443));
        }
        Map<String, String> raw = new LinkedHashMap<>();
        Map<String, String> visible = new HashMap<>(base);
        if (c.getEnvFrom() != null) {
            for (EnvFromSource ef : c.getEnvFrom()) {
                String prefix = ef.getPrefix() == null ? "" : ef.getPrefix();
                Map<String, String> values = new LinkedHashMap<>();
                if (ef.getConfigMapRef() != null) {
                    ConfigMap cm = sources.configMap(r.namespace, ef.getConfigMapRef().getName(),
                            Boolean.TRUE.equals(ef.getConfigMapRef().getOptional()), "CreateContainerConfigError");
                    if (cm != null && cm.getData() != null) {
                        values.putAll(cm.getData());
                    }
                } else if (ef.getSecretRef() != null) {
                    Secret s = sources.secret(r.namespace, ef.getSecretRef().getName(),
                            Boolean.TRUE.equals(ef.getSecretRef().getOptional()), "CreateContainerConfigError");
                    if (s != null) {
                        values.putAll(PodSources.decode(s));
                    }
                }
                values.forEach((k, v) -> {
                    raw.put(prefix + k, v);
                    visible.put(prefix + k, v);
                });
            }
        }
        if (c.getEnv() != null) {
            for (EnvVar e : c.getEnv()) {
                String value = e.getValueFrom() != null ? envValueFrom(r, pod, e)
                        : PathRewriter.expand(e.getValue() == null ? "" : e.getValue(), visible);
                if (value == null) {
                    continue; // optional and missing
                }
                raw.put(e.getName(), value);
                visible.put(e.getName(), value);
            }
        }
        Map<String, String> env = new LinkedHashMap<>(base);
        raw.forEach((k, v) -> env.put(k, rewriter.rewrite(v)));

        // command line
        if (c.getCommand() == null || c.getCommand().isEmpty()) {
            throw new StartFailure("StartError", "the test kubelet needs containers[0].command: images are"
                    + " ignored, so their entrypoint is unknown");
        }
        List<String> cmd = new ArrayList<>();
        for (String s : c.getCommand()) {
            cmd.add(rewriter.rewrite(PathRewriter.expand(s, visible)));
        }
        if (c.getArgs() != null) {
            for (String s : c.getArgs()) {
                cmd.add(rewriter.rewrite(PathRewriter.expand(s, visible)));
            }
        }
        ContainerSandbox sandbox = ContainerSandbox.of(binds, readOnly, security, root);
        return new PodLaunch(new PodBuilder(pod).build(), r.dir, rewriter, cmd, env, cwd, sandbox);
    }

    private String envValueFrom(PodRun r, Pod pod, EnvVar e) throws Exception {
        EnvVarSource src = e.getValueFrom();
        if (src.getSecretKeyRef() != null) {
            var ref = src.getSecretKeyRef();
            boolean optional = Boolean.TRUE.equals(ref.getOptional());
            Secret s = sources.secret(r.namespace, ref.getName(), optional, "CreateContainerConfigError");
            if (s == null) {
                return null;
            }
            String v = PodSources.decode(s).get(ref.getKey());
            if (v == null && !optional) {
                throw new MissingSource("CreateContainerConfigError",
                        "couldn't find key " + ref.getKey() + " in Secret " + r.namespace + "/" + ref.getName());
            }
            return v;
        }
        if (src.getConfigMapKeyRef() != null) {
            var ref = src.getConfigMapKeyRef();
            boolean optional = Boolean.TRUE.equals(ref.getOptional());
            ConfigMap cm = sources.configMap(r.namespace, ref.getName(), optional, "CreateContainerConfigError");
            if (cm == null) {
                return null;
            }
            String v = cm.getData() == null ? null : cm.getData().get(ref.getKey());
            if (v == null && !optional) {
                throw new MissingSource("CreateContainerConfigError",
                        "couldn't find key " + ref.getKey() + " in ConfigMap " + r.namespace + "/" + ref.getName());
            }
            return v;
        }
        if (src.getFieldRef() != null) {
            return DownwardApi.fieldValue(pod, src.getFieldRef().getFieldPath());
        }
        throw new StartFailure("TestKubeletUnsupported", "env " + e.getName()
                + ": only value, secretKeyRef, configMapKeyRef and fieldRef are supported by the test kubelet");
    }

    /** An absolute path for the command, searched on the process's PATH (a missing one is a StartError). */
    static String resolveExecutable(String command, Map<String, String> env, Path cwd) throws StartFailure {
        if (command.contains("/")) {
            Path p = cwd.resolve(command);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p.toString();
            }
            throw new StartFailure("StartError", "exec: \"" + command + "\": no such executable file");
        }
        String path = env.getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, command);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new StartFailure("StartError", "exec: \"" + command + "\": executable file not found in $PATH");
    }
}
