package dev.nixek.ci.operator.pod;

import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.kube.KubeObjects;
import dev.nixek.ci.common.kube.NixStore;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A pod that runs one command of the nixek image once, over the user's Nix code: the evaluation pod of a job written
 * in Nix and the builder pod of a machine image. Both are the same skeleton — {@code restartPolicy: Never} (the
 * operator, not the kubelet, decides about another attempt), no Kubernetes API token and no service links (the pod
 * runs the user's code), a deadline, a writable {@link NixStore}, read-only inputs, the command's termination
 * message (or, when it was killed before it wrote one, the end of its log) for {@link PodOutcome} to read, and a
 * security context that passes the Pod Security Standards' "restricted" profile (see {@link #securityContext}).
 */
public final class OneShotNixPod {
  public static final String TERMINATION_LOG = "/dev/termination-log";
  /** The image's {@code nixek} user and group (Dockerfile): the pods run as them, never as root. */
  public static final long NIXEK_ID = 65532L;
  /** The one variable of the pods' environment (no credential is ever passed through it). */
  public static final String NIX_REMOTE = "NIX_REMOTE";

  private final ObjectMeta metadata;
  private String container;
  private String image;
  private List<String> command = List.of();
  private String serviceAccount;
  private Duration deadline;
  private final Map<String, Quantity> requests = new LinkedHashMap<>();
  private final Map<String, Quantity> limits = new LinkedHashMap<>();
  private final List<VolumeMount> inputMounts = new ArrayList<>();
  private final List<Volume> inputVolumes = new ArrayList<>();
  private String nixStoreSizeLimit = "";

  private OneShotNixPod(ObjectMeta metadata) {
    this.metadata = metadata;
  }

  /** A pod with {@code metadata} (see {@link #metadata}). */
  public static OneShotNixPod of(ObjectMeta metadata) {
    return new OneShotNixPod(metadata);
  }

  /**
   * The metadata of a one-shot pod and of what it mounts: name, namespace, the managed-by and component labels (the
   * pod informer selects on them) and the controller owner (Kubernetes deletes them with it). Callers add their own
   * labels and annotations after these.
   */
  public static ObjectMetaBuilder metadata(String name, String namespace, String component, OwnerReference owner) {
    return new ObjectMetaBuilder()
        .withName(name)
        .withNamespace(namespace)
        .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
        .addToLabels(Labels.COMPONENT, component)
        .withOwnerReferences(owner);
  }

  /** The one container: its name (what {@link PodOutcome} looks for), image and command. */
  public OneShotNixPod container(String name, String image, List<String> command) {
    this.container = name;
    this.image = image;
    this.command = List.copyOf(command);
    return this;
  }

  /** The pod's ServiceAccount; null for the namespace's default. */
  public OneShotNixPod serviceAccount(String name) {
    this.serviceAccount = name;
    return this;
  }

  /** How long the pod may run before Kubernetes stops it ({@code activeDeadlineSeconds}). */
  public OneShotNixPod deadline(Duration deadline) {
    this.deadline = deadline;
    return this;
  }

  /** A resource request; none when {@code quantity} is null or empty (configured away). */
  public OneShotNixPod request(String resource, String quantity) {
    put(requests, resource, quantity);
    return this;
  }

  /** A resource limit; none when {@code quantity} is null or empty. */
  public OneShotNixPod limit(String resource, String quantity) {
    put(limits, resource, quantity);
    return this;
  }

  /** The {@code sizeLimit} of the Nix store's emptyDir; none when null or empty ({@link PodLimits}). */
  public OneShotNixPod nixStoreSizeLimit(String quantity) {
    this.nixStoreSizeLimit = quantity == null ? "" : quantity;
    return this;
  }

  /** {@code volume} mounted read-only at {@code path}. */
  public OneShotNixPod input(String path, Volume volume) {
    inputMounts.add(new VolumeMountBuilder().withName(volume.getName()).withMountPath(path).withReadOnly(true)
        .build());
    inputVolumes.add(volume);
    return this;
  }

  /**
   * The pod. The Nix store comes right after the first input, where both pods have always had it: the order means
   * nothing to Kubernetes, but another order would change every pod's spec.
   */
  public Pod build() {
    List<VolumeMount> mounts = new ArrayList<>(inputMounts);
    List<Volume> volumes = new ArrayList<>(inputVolumes);
    int nix = Math.min(1, mounts.size());
    mounts.add(nix, NixStore.mount());
    volumes.add(nix, NixStore.volume(nixStoreSizeLimit));
    return new PodBuilder()
        .withMetadata(metadata)
        .withNewSpec()
        .withRestartPolicy("Never")
        .withServiceAccountName(serviceAccount)
        .withAutomountServiceAccountToken(false)
        .withEnableServiceLinks(false)
        .withActiveDeadlineSeconds(deadline.toSeconds())
        .withSecurityContext(securityContext())
        .addNewContainer()
        .withName(container)
        .withImage(image)
        .withCommand(command)
        // nix's own store at /nix/store, even while /nix/var/nix does not exist yet: in a fresh /nix a non-root nix
        // 2.26 would otherwise divert to a chroot store under $HOME (builds needing user namespaces, outputs not at
        // their /nix/store paths); nix 2.8 means the same by its default
        .addNewEnv().withName(NIX_REMOTE).withValue("local").endEnv()
        .withNewResources().withRequests(requests).withLimits(limits).endResources()
        .withTerminationMessagePath(TERMINATION_LOG)
        // a command killed before it wrote its message still says something: the end of its log
        .withTerminationMessagePolicy("FallbackToLogsOnError")
        .withVolumeMounts(mounts)
        .withNewSecurityContext()
        .withAllowPrivilegeEscalation(false)
        .withNewCapabilities().withDrop("ALL").endCapabilities()
        .endSecurityContext()
        .endContainer()
        .withVolumes(volumes)
        .endSpec()
        .build();
  }

  /**
   * The pod's security context: the nixek user and group by number (a kubelet can prove {@code runAsNonRoot} only
   * for a numeric user), seccomp {@code RuntimeDefault}, and {@code fsGroup} — which is what makes the volumes usable
   * for that user. A kubelet makes an emptyDir (the Nix store at {@code /nix}) group-owned by fsGroup with mode 2777,
   * and walks Secret/ConfigMap volumes giving them group fsGroup with the mode ORed with 0440: without fsGroup the
   * evaluation token's file would be {@code root:root} with its defaultMode, unreadable for uid 65532 unless world
   * readable. The container adds no privilege escalation and drops every capability (see {@link #build}).
   */
  static PodSecurityContext securityContext() {
    return new PodSecurityContextBuilder()
        .withRunAsNonRoot(true)
        .withRunAsUser(NIXEK_ID)
        .withRunAsGroup(NIXEK_ID)
        .withFsGroup(NIXEK_ID)
        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
        .build();
  }

  /**
   * Creates {@code pod} through JOSDK, so that the next reconcile finds it in {@code informer}'s cache; false when it
   * exists already (an earlier reconcile made it).
   */
  public static <P extends HasMetadata> boolean create(Context<P> context, Pod pod,
      InformerEventSource<Pod, P> informer) {
    return createIfAbsent(context, pod, informer).isPresent();
  }

  /** {@link #create}, with the pod the API server made (its uid: what it owns is created after it); empty if absent. */
  public static <P extends HasMetadata> Optional<Pod> createIfAbsent(Context<P> context, Pod pod,
      InformerEventSource<Pod, P> informer) {
    return KubeObjects.createIfAbsent(() -> context.resourceOperations().create(pod, informer));
  }

  private static void put(Map<String, Quantity> into, String resource, String value) {
    if (value != null && !value.isEmpty()) {
      into.put(resource, new Quantity(value));
    }
  }
}
