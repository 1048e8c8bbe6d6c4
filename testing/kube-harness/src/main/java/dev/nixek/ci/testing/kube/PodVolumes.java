package dev.nixek.ci.testing.kube;

import dev.nixek.ci.testing.kube.PodStartErrors.MissingSource;
import dev.nixek.ci.testing.kube.PodStartErrors.StartFailure;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.DownwardAPIVolumeFile;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Materializes a pod's volumes in its host directory: emptyDir, configMap, secret, downwardAPI, projected
 * (configMap, secret, downwardAPI, serviceAccountToken from the TokenRequest API) and hostPath, with items,
 * file modes and the ownership a kubelet gives them ({@link VolumeOwnership}). Other types fail the pod with reason
 * {@code TestKubeletUnsupported}.
 */
final class PodVolumes {

    private final KubernetesClient client;
    private final PodSources sources;

    PodVolumes(KubernetesClient client, PodSources sources) {
        this.client = client;
        this.sources = sources;
    }

    /** Whether a kubelet mounts the volume read-only whatever the mount says (API data: secret, configMap, ...). */
    static boolean isApiData(Volume v) {
        return v.getSecret() != null || v.getConfigMap() != null || v.getDownwardAPI() != null
                || v.getProjected() != null;
    }

    /** Writes a volume's content below {@code volumesDir}, owned as for {@code fsGroup}; returns its host directory. */
    Path materialize(PodRun r, Pod pod, Volume v, Path volumesDir, Long fsGroup) throws Exception {
        if (v.getHostPath() != null) {
            return Path.of(v.getHostPath().getPath());
        }
        Path dir = volumesDir.resolve(v.getName());
        Files.createDirectories(dir);
        if (v.getEmptyDir() != null) {
            VolumeOwnership.emptyDir(dir, fsGroup);
            return dir;
        }
        VolumeOwnership.chmod(dir, VolumeOwnership.API_DIR_MODE);
        Path written = writeApiData(r, pod, v, dir);
        VolumeOwnership.apiData(dir, fsGroup);
        return written;
    }

    private Path writeApiData(PodRun r, Pod pod, Volume v, Path dir) throws Exception {
        if (v.getConfigMap() != null) {
            var src = v.getConfigMap();
            ConfigMap cm = sources.configMap(r.namespace, src.getName(), Boolean.TRUE.equals(src.getOptional()),
                    "ContainerCreating");
            if (cm != null) {
                writeKeys(dir, PodSources.bytes(cm), src.getItems(), src.getDefaultMode(), "configmap " + src.getName(),
                        Boolean.TRUE.equals(src.getOptional()));
            }
            return dir;
        }
        if (v.getSecret() != null) {
            var src = v.getSecret();
            Secret s = sources.secret(r.namespace, src.getSecretName(), Boolean.TRUE.equals(src.getOptional()),
                    "ContainerCreating");
            if (s != null) {
                writeKeys(dir, PodSources.decodeBytes(s), src.getItems(), src.getDefaultMode(), "secret " + src.getSecretName(),
                        Boolean.TRUE.equals(src.getOptional()));
            }
            return dir;
        }
        if (v.getDownwardAPI() != null) {
            writeDownward(dir, pod, v.getDownwardAPI().getItems(), v.getDownwardAPI().getDefaultMode());
            return dir;
        }
        if (v.getProjected() != null) {
            Integer mode = v.getProjected().getDefaultMode();
            for (VolumeProjection p : v.getProjected().getSources()) {
                if (p.getConfigMap() != null) {
                    var src = p.getConfigMap();
                    ConfigMap cm = sources.configMap(r.namespace, src.getName(), Boolean.TRUE.equals(src.getOptional()),
                            "ContainerCreating");
                    if (cm != null) {
                        writeKeys(dir, PodSources.bytes(cm), src.getItems(), mode, "configmap " + src.getName(),
                                Boolean.TRUE.equals(src.getOptional()));
                    }
                } else if (p.getSecret() != null) {
                    var src = p.getSecret();
                    Secret s = sources.secret(r.namespace, src.getName(), Boolean.TRUE.equals(src.getOptional()),
                            "ContainerCreating");
                    if (s != null) {
                        writeKeys(dir, PodSources.decodeBytes(s), src.getItems(), mode, "secret " + src.getName(),
                                Boolean.TRUE.equals(src.getOptional()));
                    }
                } else if (p.getDownwardAPI() != null) {
                    writeDownward(dir, pod, p.getDownwardAPI().getItems(), mode);
                } else if (p.getServiceAccountToken() != null) {
                    var src = p.getServiceAccountToken();
                    String sa = pod.getSpec().getServiceAccountName() == null ? "default"
                            : pod.getSpec().getServiceAccountName();
                    String token;
                    try {
                        var spec = new TokenRequestBuilder().withNewSpec()
                                .withExpirationSeconds(src.getExpirationSeconds() == null ? 3600L
                                        : src.getExpirationSeconds())
                                .withNewBoundObjectRef().withApiVersion("v1").withKind("Pod")
                                .withName(r.name).withUid(r.uid).endBoundObjectRef();
                        if (src.getAudience() != null && !src.getAudience().isEmpty()) {
                            spec.withAudiences(src.getAudience());
                        }
                        token = client.serviceAccounts().inNamespace(r.namespace).withName(sa)
                                .tokenRequest(spec.endSpec().build()).getStatus().getToken();
                    } catch (KubernetesClientException e) {
                        throw new MissingSource("ContainerCreating", "cannot get a token for serviceaccount " + sa
                                + " (nothing creates ServiceAccounts here: create it): " + e.getMessage());
                    }
                    writeFile(dir, src.getPath(), token.getBytes(StandardCharsets.UTF_8), mode, 0600);
                } else {
                    throw new StartFailure("TestKubeletUnsupported", "volume " + v.getName()
                            + ": projected source not supported by the test kubelet");
                }
            }
            return dir;
        }
        throw new StartFailure("TestKubeletUnsupported", "volume " + v.getName() + ": type not supported by the"
                + " test kubelet (supported: emptyDir, configMap, secret, downwardAPI, projected, hostPath)");
    }

    private static void writeKeys(Path dir, Map<String, byte[]> data, List<KeyToPath> items, Integer defaultMode,
            String what, boolean optional) throws Exception {
        if (items == null || items.isEmpty()) {
            for (Map.Entry<String, byte[]> e : data.entrySet()) {
                writeFile(dir, e.getKey(), e.getValue(), null, defaultMode == null ? 0644 : defaultMode);
            }
            return;
        }
        for (KeyToPath item : items) {
            byte[] content = data.get(item.getKey());
            if (content == null) {
                if (optional) {
                    continue;
                }
                throw new MissingSource("ContainerCreating", what + ": key " + item.getKey() + " not found");
            }
            writeFile(dir, item.getPath(), content, item.getMode(), defaultMode == null ? 0644 : defaultMode);
        }
    }

    private static void writeDownward(Path dir, Pod pod, List<DownwardAPIVolumeFile> items, Integer defaultMode)
            throws Exception {
        if (items == null) {
            return;
        }
        for (DownwardAPIVolumeFile f : items) {
            if (f.getFieldRef() == null) {
                throw new StartFailure("TestKubeletUnsupported", "downwardAPI " + f.getPath()
                        + ": only fieldRef is supported by the test kubelet");
            }
            writeFile(dir, f.getPath(), DownwardApi.fieldValue(pod, f.getFieldRef().getFieldPath()).getBytes(StandardCharsets.UTF_8),
                    f.getMode(), defaultMode == null ? 0644 : defaultMode);
        }
    }

    private static void writeFile(Path dir, String relative, byte[] content, Integer mode, int defaultMode)
            throws IOException, StartFailure {
        Path f = dir.resolve(checkRelative(relative, "path"));
        Files.createDirectories(f.getParent());
        Files.write(f, content);
        VolumeOwnership.chmod(f, mode != null ? mode : defaultMode);
    }

    static String checkRelative(String p, String what) throws StartFailure {
        Path path = Path.of(p).normalize();
        if (path.isAbsolute() || path.startsWith("..")) {
            throw new StartFailure("StartError", what + " " + p + " must be relative and must not contain '..'");
        }
        return path.toString();
    }
}
