package dev.nixek.ci.operator.evaluation;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.job.FlakeRules;
import dev.nixek.ci.common.kube.Owners;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.pod.OneShotNixPod;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * The evaluation pod of a job written in Nix and what it mounts: a ConfigMap holding {@code spec.nix} (inline form)
 * and a short-lived Secret holding the plaintext evaluation token. All three are named after the job's UID and owned
 * by the job (Kubernetes deletes them with it). The pod runs the builder image's {@code evaluate} command once
 * ({@code restartPolicy: Never}) under the configured deadline and memory limit, with no Kubernetes API token: it
 * runs the user's Nix code, and its only way back is the report API, with a token that can post this job's
 * evaluation and nothing else.
 */
public final class EvaluationPods {
  /** The component label of evaluation pods, their ConfigMaps and token Secrets; the pod informer selects on it. */
  public static final String COMPONENT = Labels.COMPONENT_EVALUATION;
  public static final String CONTAINER = "evaluate";
  static final String JOB_MOUNT = "/nixek/eval/job";
  static final String TOKEN_MOUNT = "/nixek/eval/token";
  static final String JOB_FILE = "job.nix";
  static final String TOKEN_KEY = "token";
  /** The token file's mode: group-readable, for the pod's user through fsGroup ({@link OneShotNixPod}). */
  static final int TOKEN_MODE = 0440;
  /**
   * The key of the repository's token in an evaluation pod's Secret (docs/repositories.md, "Private repositories:
   * the evaluations' token"): only a private repository's own commit and jobs get it.
   */
  public static final String FORGE_TOKEN_KEY = "forge-token";
  static final String FORGE_TOKEN_MOUNT = "/nixek/eval/forge";
  static final String FORGE_TOKEN_FILE = "token";
  /** The builder's flag naming the file (never the value) that holds the repository's token. */
  public static final String FORGE_TOKEN_FLAG = "--forge-token-file";

  private final OperatorConfig config;

  public EvaluationPods(OperatorConfig config) {
    this.config = config;
  }

  /** The name of the job's evaluation pod, ConfigMap and token Secret. */
  public static String name(NixekJob job) {
    return "nixek-eval-" + job.getMetadata().getUid();
  }

  /** The ConfigMap with {@code spec.nix} (inline form only). */
  public ConfigMap configMap(NixekJob job) {
    return new ConfigMapBuilder()
        .withMetadata(metadata(job))
        .withImmutable(true)
        .addToData(JOB_FILE, job.getSpec().nix)
        .build();
  }

  /**
   * The Secret holding the plaintext evaluation token, for the pod to read. It exists only while the evaluation runs:
   * the operator deletes it (and the token's record) once the evaluation is recorded or the job has ended.
   */
  public Secret tokenSecret(NixekJob job, String token) {
    return tokenSecret(job, token, Optional.empty());
  }

  /** The same, with the repository's token under {@link #FORGE_TOKEN_KEY} when {@code forgeToken} has one. */
  public Secret tokenSecret(NixekJob job, String token, Optional<String> forgeToken) {
    SecretBuilder b = new SecretBuilder()
        .withMetadata(metadata(job))
        .withImmutable(true)
        .withType("Opaque")
        .addToData(TOKEN_KEY, Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.US_ASCII)));
    forgeToken.ifPresent(t -> b.addToData(FORGE_TOKEN_KEY, encoded(t)));
    return b.build();
  }

  /**
   * The Secret of a commit evaluation pod that fetches a private repository: the repository's token only, named
   * after the pod and owned by it (Kubernetes deletes it with the pod; the operator deletes it once the answer is
   * used).
   */
  public static Secret forgeTokenSecret(Pod pod, String component, String token) {
    OwnerReference owner = new OwnerReferenceBuilder().withApiVersion("v1").withKind("Pod")
        .withName(pod.getMetadata().getName()).withUid(pod.getMetadata().getUid()).withController(true).build();
    return new SecretBuilder()
        .withMetadata(OneShotNixPod.metadata(pod.getMetadata().getName(), pod.getMetadata().getNamespace(), component,
            owner).build())
        .withImmutable(true)
        .withType("Opaque")
        .addToData(FORGE_TOKEN_KEY, encoded(token))
        .build();
  }

  private static String encoded(String token) {
    return Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.UTF_8));
  }

  /** The builder's arguments that name the repository's token file. */
  public static List<String> forgeTokenArguments() {
    return List.of(FORGE_TOKEN_FLAG, FORGE_TOKEN_MOUNT + "/" + FORGE_TOKEN_FILE);
  }

  /**
   * Mounts {@link #FORGE_TOKEN_KEY} of Secret {@code secretName} (only that key) as {@code token} at
   * {@link #FORGE_TOKEN_MOUNT}: mode 0440 and the pod's fsGroup, as the evaluation token (0400 would be root's
   * only, and the pod runs as non-root).
   */
  public static OneShotNixPod mountForgeToken(OneShotNixPod pod, String secretName) {
    return pod.input(FORGE_TOKEN_MOUNT, new VolumeBuilder().withName("forge-token").withNewSecret()
        .withSecretName(secretName).addNewItem().withKey(FORGE_TOKEN_KEY).withPath(FORGE_TOKEN_FILE).endItem()
        .withDefaultMode(TOKEN_MODE).endSecret().build());
  }

  /** Whether {@code pod} mounts the repository's token. */
  public static boolean mountsForgeToken(Pod pod) {
    return pod.getSpec() != null && pod.getSpec().getVolumes() != null
        && pod.getSpec().getVolumes().stream().anyMatch(v -> "forge-token".equals(v.getName()));
  }

  public Pod pod(NixekJob job) {
    return pod(job, false);
  }

  /** The pod; with {@code forgeToken}, it mounts the repository's token from its Secret and names the file. */
  public Pod pod(NixekJob job, boolean forgeToken) {
    String name = name(job);
    var images = config.images();
    var eval = config.evaluation();
    List<String> command = new ArrayList<>(eval.command(images));
    // the image's agent jar goes into the job's machine, so the drvPath evaluated here is the one its builder builds
    command.addAll(List.of("evaluate", "--nix-dir", images.nixDir(), "--agent-jar", images.agentJar()));
    if (job.getSpec().flake != null) {
      command.addAll(List.of("--flake", FlakeRules.ref(job.getSpec().flake), "--attribute", FlakeRules.attribute(job)));
    } else {
      command.addAll(List.of("--job-file", JOB_MOUNT + "/" + JOB_FILE));
    }
    if (!images.nixpkgs().isEmpty()) {
      command.addAll(List.of("--nixpkgs", images.nixpkgs()));
    }
    command.addAll(EvaluationSandboxArguments.of(job, images, eval));
    command.addAll(List.of("--system", images.system(),
        "--report-url", eval.reportUrl(config.reportUrl()).toString(),
        "--job", job.getMetadata().getNamespace() + "/" + job.getMetadata().getName(),
        "--token-file", TOKEN_MOUNT + "/" + TOKEN_KEY,
        "--termination-log", OneShotNixPod.TERMINATION_LOG));
    if (forgeToken) {
      command.addAll(forgeTokenArguments());
    }
    OneShotNixPod pod = OneShotNixPod.of(metadata(job))
        .container(CONTAINER, eval.image(images), command)
        .serviceAccount(eval.serviceAccount().isEmpty() ? null : eval.serviceAccount())
        .deadline(eval.timeout())
        .request("cpu", eval.cpuRequest())
        .request("memory", eval.memoryRequest())
        .limit("memory", eval.memoryLimit())
        // 0440 and the pod's fsGroup: the file is root:65532 in the pod, readable by the pod's user through its
        // group and by no one else (0400 alone would be root's only; a kubelet ORs 0440 in under fsGroup anyway)
        // only the evaluation token here: the Secret may hold the repository's token and the cache's netrc too,
        // each mounted at its own path
        .input(TOKEN_MOUNT, new VolumeBuilder().withName("token").withNewSecret().withSecretName(name)
            .addNewItem().withKey(TOKEN_KEY).withPath(TOKEN_KEY).endItem()
            .withDefaultMode(TOKEN_MODE).endSecret().build());
    if (forgeToken) {
      mountForgeToken(pod, name);
    }
    eval.limits().applyTo(pod);
    if (job.getSpec().flake == null) {
      pod.input(JOB_MOUNT, new VolumeBuilder().withName("job").withNewConfigMap().withName(name).endConfigMap()
          .build());
    }
    return pod.build();
  }

  private static ObjectMeta metadata(NixekJob job) {
    return OneShotNixPod.metadata(name(job), job.getMetadata().getNamespace(), COMPONENT, Owners.controller(job))
        .addToLabels(Labels.JOB_UID, job.getMetadata().getUid())
        .addToAnnotations(Labels.JOB_NAME_ANNOTATION, job.getMetadata().getName())
        .build();
  }
}
