package dev.nixek.ci.testing.kube;

import dev.nixek.ci.testing.kube.PodStartErrors.MissingSource;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ConfigMaps and Secrets a pod refers to: a missing non-optional one is a {@link MissingSource} (the pod waits
 * for it), and their data as text or bytes.
 */
final class PodSources {

    private final KubernetesClient client;

    PodSources(KubernetesClient client) {
        this.client = client;
    }

    ConfigMap configMap(String ns, String name, boolean optional, String reason) throws MissingSource {
        ConfigMap cm = client.configMaps().inNamespace(ns).withName(name).get();
        if (cm == null && !optional) {
            throw new MissingSource(reason, "configmap \"" + name + "\" not found");
        }
        return cm;
    }

    Secret secret(String ns, String name, boolean optional, String reason) throws MissingSource {
        Secret s = client.secrets().inNamespace(ns).withName(name).get();
        if (s == null && !optional) {
            throw new MissingSource(reason, "secret \"" + name + "\" not found");
        }
        return s;
    }

    static Map<String, String> decode(Secret s) {
        Map<String, String> out = new LinkedHashMap<>();
        if (s.getData() != null) {
            s.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
        }
        if (s.getStringData() != null) {
            out.putAll(s.getStringData());
        }
        return out;
    }

    static Map<String, byte[]> decodeBytes(Secret s) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        if (s.getData() != null) {
            s.getData().forEach((k, v) -> out.put(k, Base64.getDecoder().decode(v)));
        }
        if (s.getStringData() != null) {
            s.getStringData().forEach((k, v) -> out.put(k, v.getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    static Map<String, byte[]> bytes(ConfigMap cm) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        if (cm.getData() != null) {
            cm.getData().forEach((k, v) -> out.put(k, v.getBytes(StandardCharsets.UTF_8)));
        }
        if (cm.getBinaryData() != null) {
            cm.getBinaryData().forEach((k, v) -> out.put(k, Base64.getDecoder().decode(v)));
        }
        return out;
    }
}
