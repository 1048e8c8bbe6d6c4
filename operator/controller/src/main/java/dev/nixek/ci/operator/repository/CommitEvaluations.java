package dev.nixek.ci.operator.repository;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.kube.KubeObjects;
import dev.nixek.ci.common.kube.Owners;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.evaluation.EvaluationPods;
import dev.nixek.ci.operator.evaluation.EvaluationResults;
import dev.nixek.ci.operator.evaluation.LocalCommitEvaluations;
import dev.nixek.ci.operator.pod.ApiRefusals;
import dev.nixek.ci.operator.pod.OneShotNixPod;
import dev.nixek.ci.protocol.CheckoutCredential;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The job names of a repository's commit, from a commit evaluation pod: the evaluation pods' image and sandbox
 * ({@link OneShotNixPod}: no API token, non-root, deadline, memory limit) running the builder's {@code job-names}
 * command, which answers in its termination message (docs/repositories.md). Unlike a job's evaluation it posts
 * nothing, so it needs no evaluation token; a private repository's pod gets the repository's token to fetch the
 * commit with ({@link #forgeToken}), in a Secret named after the pod and owned by it, made
 * right after it (the kubelet waits for the Secret before it starts the container) and deleted with the pod once the
 * answer is used. The pod is named after the repository's UID, the commit and the attribute, and owned
 * by the repository: a restarted operator finds it instead of making another, and the pod goes with the repository.
 * Where pods cannot run, the same command runs as a local process instead ({@link LocalCommitEvaluations}).
 */
public final class CommitEvaluations {
  /** The component label of commit evaluation pods; their informer selects on it. */
  public static final String COMPONENT = "repository-evaluation";
  /** The repository's name on its evaluation pods, for the informer's mapping back to it. */
  public static final String REPOSITORY_ANNOTATION = "ci.nixek.dev/repository-name";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where a commit's evaluation is. */
  public sealed interface Outcome {
    /** Pending or running; the message says so. */
    record Waiting(String message) implements Outcome {}

    /** The job names. */
    record Names(List<String> names) implements Outcome {}

    /** The commit gets no jobs: the reason (AttributeMissing, NotAJobSet, TooManyJobs, CommitEvaluationFailed). */
    record Failed(ConditionReason reason, String message) implements Outcome {}
  }

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final LocalCommitEvaluations local;
  private volatile InformerEventSource<Pod, NixekRepository> podSource;

  /** With commit evaluation pods. */
  public CommitEvaluations(KubernetesClient client, OperatorConfig config) {
    this(client, config, null);
  }

  /**
   * @param local where pods cannot run (NIXEK_EVAL_RUNNER local): each commit's evaluation as a local process of the
   *     pod's command; null: pods
   */
  public CommitEvaluations(KubernetesClient client, OperatorConfig config, LocalCommitEvaluations local) {
    this.client = client;
    this.config = config;
    this.local = local;
  }

  /** The local runner's event source (it wakes a repository when its process ends), if evaluations are local. */
  public Optional<LocalCommitEvaluations> local() {
    return Optional.ofNullable(local);
  }

  /** The informer on commit evaluation pods; a pod's change wakes its repository. */
  public InformerEventSource<Pod, NixekRepository> eventSource(EventSourceContext<NixekRepository> context) {
    podSource = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, NixekRepository.class)
        .withName("repository-evaluation-pods")
        .withNamespacesInheritedFromController()
        .withLabelSelector(Labels.MANAGED_BY + "=" + Labels.MANAGED_BY_VALUE + "," + Labels.COMPONENT + "="
            + COMPONENT)
        .withSecondaryToPrimaryMapper(pod -> {
          Map<String, String> a = pod.getMetadata().getAnnotations();
          String repo = a == null ? null : a.get(REPOSITORY_ANNOTATION);
          return repo == null ? Set.of() : Set.of(new ResourceID(repo, pod.getMetadata().getNamespace()));
        })
        .build(), context);
    return podSource;
  }

  /** The evaluation pod's name for {@code commit} of {@code repo} at {@code attribute}. */
  public static String podName(NixekRepository repo, String commit, String attribute) {
    return "nixek-commit-" + RefRules.sha256Hex(repo.getMetadata().getUid() + "/" + commit + "/" + attribute)
        .substring(0, 24);
  }

  /**
   * Where the evaluation of {@code commit} is; starts its pod when there is none. {@code token} is the repository's
   * token as this reconcile read it (null: none); {@code fork} says the commit is a fork's pull request's.
   */
  public Outcome progress(NixekRepository repo, String commit, String attribute, boolean fork, String token,
      Context<NixekRepository> context) {
    String name = podName(repo, commit, attribute);
    String ns = repo.getMetadata().getNamespace();
    Optional<String> forgeToken = forgeToken(repo, token, fork);
    if (local != null) {
      LocalCommitEvaluations.Progress p = local.progress(repo, pod(repo, commit, attribute, forgeToken.isPresent()),
          commit, forgeToken.orElse(null));
      if (p instanceof LocalCommitEvaluations.Progress.Running r) {
        return new Outcome.Waiting(r.message());
      }
      if (p instanceof LocalCommitEvaluations.Progress.Answered a) {
        return answer(a.message());
      }
      return new Outcome.Failed(ConditionReason.CommitEvaluationFailed,
          ((LocalCommitEvaluations.Progress.Failed) p).message());
    }
    Optional<Pod> pod = podSource.get(new ResourceID(name, ns));
    if (pod.isEmpty()) {
      Pod fresh = pod(repo, commit, attribute, forgeToken.isPresent());
      Optional<Pod> created;
      try {
        created = OneShotNixPod.createIfAbsent(context, fresh, podSource);
      } catch (KubernetesClientException e) {
        return new Outcome.Waiting("the commit evaluation pod " + name + " cannot be created: "
            + ApiRefusals.message(e, token));
      }
      if (created.isPresent() && forgeToken.isPresent()) {
        Optional<String> refused = createForgeTokenSecret(created.get(), forgeToken.get());
        if (refused.isPresent()) {
          return new Outcome.Waiting(refused.get());
        }
      }
      return new Outcome.Waiting("evaluating the jobs of " + commit + " in pod " + name);
    }
    if (forgeToken.isPresent() && EvaluationPods.mountsForgeToken(pod.get()) && pod.get().getStatus() != null
        && "Pending".equals(pod.get().getStatus().getPhase())) {
      // an operator that stopped between the pod and its Secret: the kubelet waits for the Secret, make it now
      Optional<String> refused = createForgeTokenSecret(pod.get(), forgeToken.get());
      if (refused.isPresent()) {
        return new Outcome.Waiting(refused.get());
      }
    }
    return outcome(pod.get(), config);
  }

  /** The pod's Secret with the repository's token (present already: fine); empty, or why the API server refused it. */
  private Optional<String> createForgeTokenSecret(Pod pod, String token) {
    Secret secret = EvaluationPods.forgeTokenSecret(pod, COMPONENT, token);
    try {
      KubeObjects.createIfAbsent(() -> client.secrets().inNamespace(pod.getMetadata().getNamespace())
          .resource(secret).create());
      return Optional.empty();
    } catch (KubernetesClientException e) {
      return Optional.of("the Secret of the commit evaluation pod " + pod.getMetadata().getName()
          + " cannot be created: " + ApiRefusals.message(e, token));
    }
  }

  /** Deletes the pod of a commit whose outcome is recorded, and its Secret with the repository's token, if any. */
  public void release(NixekRepository repo, String commit, String attribute) {
    if (local != null) {
      local.release(podName(repo, commit, attribute));
      return;
    }
    String name = podName(repo, commit, attribute);
    client.secrets().inNamespace(repo.getMetadata().getNamespace()).withName(name).delete();
    client.pods().inNamespace(repo.getMetadata().getNamespace()).withName(name).delete();
  }

  /** What {@code pod} says. */
  static Outcome outcome(Pod pod, OperatorConfig config) {
    EvaluationResults.Outcome o = EvaluationResults.of(pod, config.evaluation());
    if (o instanceof EvaluationResults.Outcome.Working || o instanceof EvaluationResults.Outcome.Stalled
        || o instanceof EvaluationResults.Outcome.NeverStarted) {
      String why = o instanceof EvaluationResults.Outcome.Stalled s ? " (" + s.why() + ")"
          : o instanceof EvaluationResults.Outcome.NeverStarted n ? " (" + n.why() + ")" : "";
      return new Outcome.Waiting("evaluating in pod " + pod.getMetadata().getName() + why);
    }
    if (o instanceof EvaluationResults.Outcome.Failed f) {
      return new Outcome.Failed(ConditionReason.CommitEvaluationFailed, f.message());
    }
    return answer(terminationMessage(pod));
  }

  /** The {@code job-names} command's answer: {@code {"names": [...]}} or {@code {"reason": ..., "error": ...}}. */
  static Outcome answer(String message) {
    JsonNode m;
    try {
      m = message == null ? null : JSON.readTree(message);
    } catch (IOException e) {
      m = null;
    }
    if (m == null || !m.isObject()) {
      return new Outcome.Failed(ConditionReason.CommitEvaluationFailed,
          "the commit evaluation ended without an answer");
    }
    if (m.path("names").isArray()) {
      List<String> names = new ArrayList<>();
      m.get("names").forEach(n -> names.add(n.asText()));
      return new Outcome.Names(names);
    }
    ConditionReason reason = ConditionReason.parse(m.path("reason").asText(""))
        .filter(r -> r.appliesTo(ConditionReason.Kind.REPOSITORY) && r != ConditionReason.InvalidSpec)
        .orElse(ConditionReason.CommitEvaluationFailed);
    return new Outcome.Failed(reason, m.path("error").asText("the commit evaluation gave no job names"));
  }

  private static String terminationMessage(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return null;
    }
    for (ContainerStatus s : pod.getStatus().getContainerStatuses()) {
      if (s.getState() != null && s.getState().getTerminated() != null) {
        return s.getState().getTerminated().getMessage();
      }
    }
    return null;
  }

  /** The pod; with {@code forgeToken}, it mounts the repository's token from its Secret and names the file. */
  Pod pod(NixekRepository repo, String commit, String attribute, boolean forgeToken) {
    var images = config.images();
    var eval = config.evaluation();
    List<String> command = new ArrayList<>(eval.command(images));
    command.addAll(List.of("job-names",
        "--flake", RepositoryUrls.flakeUrl(repo.getSpec().url) + "?rev=" + commit,
        "--attribute", attribute,
        "--max-jobs", Integer.toString(config.repositories().maxJobsPerCommit()),
        "--termination-log", OneShotNixPod.TERMINATION_LOG));
    if (forgeToken) {
      command.addAll(EvaluationPods.forgeTokenArguments());
    }
    String name = podName(repo, commit, attribute);
    OneShotNixPod pod = OneShotNixPod.of(OneShotNixPod.metadata(name, repo.getMetadata().getNamespace(), COMPONENT,
            Owners.controller(repo))
            .addToAnnotations(REPOSITORY_ANNOTATION, repo.getMetadata().getName())
            .addToAnnotations(RepositoryJobs.COMMIT_ANNOTATION, commit)
            .build())
        .container(EvaluationPods.CONTAINER, eval.image(images), command)
        .serviceAccount(eval.serviceAccount().isEmpty() ? null : eval.serviceAccount())
        .deadline(eval.timeout())
        .request("cpu", eval.cpuRequest())
        .request("memory", eval.memoryRequest())
        .limit("memory", eval.memoryLimit());
    if (forgeToken) {
      EvaluationPods.mountForgeToken(pod, name);
    }
    return pod.build();
  }

  /**
   * The token for the commit evaluation pod of {@code repo}, given the token its reconcile read (null: none): always
   * the repository's own, except for a fork's pull request (its flake is the fork's code: no token anywhere), and
   * only over https (or http to this machine).
   */
  public static Optional<String> forgeToken(NixekRepository repo, String token, boolean fork) {
    return token == null || fork || !CheckoutCredential.sentTo(repo.getSpec().url) ? Optional.empty()
        : Optional.of(token);
  }
}
