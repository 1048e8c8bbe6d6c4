package dev.nixek.ci.testing.kube;

import dev.nixek.ci.testing.kube.PodStartErrors.StartFailure;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The downward API fields the test kubelet knows (env {@code fieldRef}s and downwardAPI volume files). */
final class DownwardApi {

    private DownwardApi() {
    }

    private static final Pattern MAP_FIELD = Pattern.compile("metadata\\.(labels|annotations)\\['(.*)'\\]");

    /** The downward API fields the test kubelet knows. */
    static String fieldValue(Pod pod, String path) throws StartFailure {
        Matcher m = MAP_FIELD.matcher(path);
        if (m.matches()) {
            Map<String, String> map = "labels".equals(m.group(1)) ? pod.getMetadata().getLabels()
                    : pod.getMetadata().getAnnotations();
            String v = map == null ? null : map.get(m.group(2));
            return v == null ? "" : v;
        }
        switch (path) {
            case "metadata.name":
                return pod.getMetadata().getName();
            case "metadata.namespace":
                return pod.getMetadata().getNamespace();
            case "metadata.uid":
                return pod.getMetadata().getUid();
            case "metadata.labels":
                return formatMap(pod.getMetadata().getLabels());
            case "metadata.annotations":
                return formatMap(pod.getMetadata().getAnnotations());
            case "spec.nodeName":
                return pod.getSpec().getNodeName() == null ? "" : pod.getSpec().getNodeName();
            case "spec.serviceAccountName":
                return pod.getSpec().getServiceAccountName() == null ? "" : pod.getSpec().getServiceAccountName();
            case "status.hostIP":
            case "status.hostIPs":
            case "status.podIP":
            case "status.podIPs":
                return TestKubelet.LOCALHOST;
            default:
                throw new StartFailure("TestKubeletUnsupported", "fieldRef " + path
                        + " is not supported by the test kubelet");
        }
    }

    /** The downward API's format of labels/annotations: {@code key="value"} lines, sorted. */
    private static String formatMap(Map<String, String> map) {
        if (map == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        map.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> sb.append(e.getKey())
                .append("=\"").append(e.getValue().replace("\\", "\\\\").replace("\"", "\\\"")
                        .replace("\n", "\\n")).append("\"\n"));
        return sb.toString().stripTrailing();
    }
}
