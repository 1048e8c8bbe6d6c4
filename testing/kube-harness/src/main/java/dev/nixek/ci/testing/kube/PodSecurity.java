package dev.nixek.ci.testing.kube;

import dev.nixek.ci.testing.kube.PodStartErrors.ConfigError;
import dev.nixek.ci.testing.kube.PodStartErrors.StartFailure;
import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Who a pod's first container runs as and what its security context takes from the process, read as a kubelet reads
 * the pod's and the container's {@code securityContext} (the container's field wins over the pod's).
 *
 * <p>The image is ignored, so its {@code USER} and {@code /etc/passwd} are unknown: without {@code runAsUser} the
 * process runs as the test kubelet's own user — unless {@code runAsNonRoot} asks for a proof of non-root, which only a
 * numeric {@code runAsUser} can give here ({@code CreateContainerConfigError}, as a kubelet says for an image whose
 * user is not numeric). {@code runAsUser} without {@code runAsGroup} is refused too: the group would come from the
 * image's passwd file (gid 0 for a uid not in it), which the test kubelet cannot read.
 *
 * @param uid the user id; null: the test kubelet's own
 * @param gid the primary group id (null when uid is)
 * @param groups supplementary groups: {@code fsGroup} first, then {@code supplementalGroups}
 * @param fsGroup the pod's {@code fsGroup}, for volume ownership
 * @param noNewPrivileges {@code allowPrivilegeEscalation: false}
 * @param dropCapabilities capability names to drop from the bounding set ({@code all} for ALL)
 */
record PodSecurity(Long uid, Long gid, List<Long> groups, Long fsGroup, boolean noNewPrivileges,
        List<String> dropCapabilities) {

    static final PodSecurity NONE = new PodSecurity(null, null, List.of(), null, false, List.of());

    /** Whether the process must be started through {@code setpriv}. */
    boolean restricts() {
        return uid != null || !groups.isEmpty() || noNewPrivileges || !dropCapabilities.isEmpty();
    }

    /**
     * The pod's security as far as the test kubelet honours it.
     *
     * @throws ConfigError what a kubelet refuses with {@code CreateContainerConfigError}
     * @throws StartFailure what the test kubelet cannot honour ({@code TestKubeletUnsupported})
     */
    static PodSecurity of(Pod pod, Container c) throws ConfigError, StartFailure {
        PodSecurityContext ps = pod.getSpec().getSecurityContext();
        SecurityContext cs = c.getSecurityContext();
        Long uid = cs != null && cs.getRunAsUser() != null ? cs.getRunAsUser() : ps == null ? null : ps.getRunAsUser();
        Long gid = cs != null && cs.getRunAsGroup() != null ? cs.getRunAsGroup()
                : ps == null ? null : ps.getRunAsGroup();
        Boolean nonRoot = cs != null && cs.getRunAsNonRoot() != null ? cs.getRunAsNonRoot()
                : ps == null ? null : ps.getRunAsNonRoot();
        String where = "(pod: \"" + pod.getMetadata().getName() + "_" + pod.getMetadata().getNamespace() + "("
                + pod.getMetadata().getUid() + ")\", container: " + c.getName() + ")";
        if (Boolean.TRUE.equals(nonRoot)) {
            if (uid == null) {
                throw new ConfigError("CreateContainerConfigError", "container has runAsNonRoot and the test kubelet"
                        + " cannot verify that the image's user is non-root: set runAsUser " + where);
            }
            if (uid == 0) {
                throw new ConfigError("CreateContainerConfigError",
                        "container's runAsUser breaks non-root policy " + where);
            }
        }
        if (uid != null && gid == null) {
            throw new StartFailure("TestKubeletUnsupported", "runAsUser " + uid + " without runAsGroup: the primary"
                    + " group would come from the image's /etc/passwd, which the test kubelet cannot read");
        }
        if (uid == null && gid != null) {
            throw new StartFailure("TestKubeletUnsupported", "runAsGroup without runAsUser: the user would come from"
                    + " the image, which the test kubelet cannot read");
        }
        if (cs != null && Boolean.TRUE.equals(cs.getPrivileged())) {
            throw new StartFailure("TestKubeletUnsupported", "privileged containers are not run by the test kubelet");
        }
        Long fsGroup = ps == null ? null : ps.getFsGroup();
        Set<Long> groups = new LinkedHashSet<>();
        if (fsGroup != null) {
            groups.add(fsGroup);
        }
        if (ps != null && ps.getSupplementalGroups() != null) {
            groups.addAll(ps.getSupplementalGroups());
        }
        boolean noNewPrivileges = cs != null && Boolean.FALSE.equals(cs.getAllowPrivilegeEscalation());
        return new PodSecurity(uid, gid, List.copyOf(groups), fsGroup, noNewPrivileges,
                drops(cs == null ? null : cs.getCapabilities()));
    }

    private static List<String> drops(Capabilities caps) throws StartFailure {
        if (caps == null) {
            return List.of();
        }
        if (caps.getAdd() != null && !caps.getAdd().isEmpty()) {
            throw new StartFailure("TestKubeletUnsupported", "capabilities.add " + caps.getAdd()
                    + " is not supported by the test kubelet");
        }
        List<String> out = new ArrayList<>();
        for (String d : caps.getDrop() == null ? List.<String>of() : caps.getDrop()) {
            String name = d.toLowerCase(Locale.ROOT).replaceFirst("^cap_", "");
            if (!name.matches("[a-z_]+")) {
                throw new StartFailure("StartError", "capabilities.drop: not a capability: " + d);
            }
            if (name.equals("all")) {
                return List.of("all");
            }
            out.add(name);
        }
        return List.copyOf(out);
    }

    /** The {@code setpriv} arguments (without the command) that put the process under this security. */
    List<String> setprivArguments() {
        List<String> a = new ArrayList<>();
        if (uid != null) {
            a.add("--reuid=" + uid);
            a.add("--regid=" + gid);
            a.add(groups.isEmpty() ? "--clear-groups" : "--groups=" + joined(groups));
        } else if (!groups.isEmpty()) {
            a.add("--groups=" + joined(groups));
        }
        if (noNewPrivileges) {
            a.add("--no-new-privs");
        }
        if (!dropCapabilities.isEmpty()) {
            String caps = joined(dropCapabilities.stream().map(d -> "-" + d).toList());
            a.add("--inh-caps=" + caps);
            a.add("--bounding-set=" + caps);
        }
        return a;
    }

    private static String joined(List<?> values) {
        StringBuilder sb = new StringBuilder();
        for (Object v : values) {
            sb.append(sb.length() == 0 ? "" : ",").append(v);
        }
        return sb.toString();
    }
}
