package dev.nixek.ci.operator.evaluation;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.job.FlakeRules;
import dev.nixek.ci.common.kube.KubeObjects;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.pod.ApiRefusals;
import dev.nixek.ci.operator.pod.OneShotNixPod;
import dev.nixek.ci.operator.cache.BinaryCache;
import dev.nixek.ci.operator.cache.CachePodSettings;
import dev.nixek.ci.operator.cache.CachePods;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.Map;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates jobs written in Nix, one pod per job (docs/evaluation.md). For the job reconciler: start the
 * evaluation pod (after the token's record and the Secret and ConfigMap it mounts), follow it through an informer,
 * and say when the evaluation is recorded — the pod posts it to the report API, which writes
 * {@code status.evaluation} — or why it failed. Every object is named after the job's UID and owned by the job, so a
 * restarted operator finds them instead of making others, and Kubernetes deletes them with the job. Where pods
 * cannot run, the wiring gives it {@link LocalEvaluations}, and each evaluation is a local process instead.
 */
public final class JobEvaluator {
  private static final Logger LOG = LoggerFactory.getLogger(JobEvaluator.class);

  /** Where a job's evaluation is. */
  public sealed interface Progress {
    /** The evaluation is recorded in {@code job}'s status (a fresh read). */
    record Evaluated(NixekJob job) implements Progress {}

    /** The pod is pending or running. */
    record Waiting(String message) implements Progress {}

    /** The evaluation failed: the job ends EvaluationFailed with this message. */
    record Failed(String message) implements Progress {}

    /**
     * The evaluation cannot start, and {@code message} says why: the API server refused to create the pod or what it
     * mounts ({@code created} false: try again later), or Kubernetes keeps the pod pending ({@code created} true:
     * its changes wake the job).
     */
    record Blocked(String message, boolean created) implements Progress {}
  }

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final JobTokens tokens;
  private final EventRecorder events;
  private final EvaluationPods pods;
  private final EvaluationTokens forgeTokens;
  /** Non-null: evaluations run as local processes instead of pods (where pods cannot run). */
  private final LocalEvaluations local;
  private volatile InformerEventSource<Pod, NixekJob> podSource;
  /** The trust domains' binary cache; null when it is off. */
  private volatile BinaryCache cache;

  /**
   * With {@code local} non-null, every evaluation is one of its local processes, and no pod is made;
   * {@code forgeTokens}: the token a job's flake is fetched with, if any.
   */
  public JobEvaluator(KubernetesClient client, OperatorConfig config, JobTokens tokens,
      EventRecorder events, LocalEvaluations local, EvaluationTokens forgeTokens) {
    this.local = local;
    this.client = client;
    this.config = config;
    this.tokens = tokens;
    this.events = events;
    this.pods = new EvaluationPods(config);
    this.forgeTokens = forgeTokens;
  }

  /** Evaluation pods substitute from their trust domain's binary cache from now on (null: no cache). */
  public void useCache(BinaryCache cache) {
    this.cache = cache;
  }

  /** The informer on evaluation pods; a pod's change wakes its job. */
  public InformerEventSource<Pod, NixekJob> eventSource(EventSourceContext<NixekJob> context) {
    podSource = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, NixekJob.class)
        .withName("evaluation-pods")
        .withNamespacesInheritedFromController()
        .withLabelSelector(Labels.MANAGED_BY + "=" + Labels.MANAGED_BY_VALUE + "," + Labels.COMPONENT + "="
            + EvaluationPods.COMPONENT)
        .withSecondaryToPrimaryMapper(pod -> {
          Map<String, String> a = pod.getMetadata().getAnnotations();
          String job = a == null ? null : a.get(Labels.JOB_NAME_ANNOTATION);
          return job == null ? Set.of() : Set.of(new ResourceID(job, pod.getMetadata().getNamespace()));
        })
        .build(), context);
    return podSource;
  }

  /** Where the evaluation of {@code job} (not recorded yet) is; starts its pod when there is none. */
  public Progress progress(NixekJob job, Context<NixekJob> context) {
    if (local != null) {
      return local.progress(job);
    }
    String name = EvaluationPods.name(job);
    Optional<Pod> pod = podSource.get(new ResourceID(name, job.getMetadata().getNamespace()));
    if (pod.isEmpty()) {
      boolean started;
      try {
        started = start(job, context);
      } catch (Refused r) {
        LOG.warn("job {}/{}: {}", job.getMetadata().getNamespace(), job.getMetadata().getName(), r.getMessage());
        return new Progress.Blocked(r.getMessage(), false);
      }
      if (started) {
        events.record(job, EventReason.EvaluationStarted, "evaluating " + FlakeRules.subject(job) + " in pod "
            + name);
      }
      return new Progress.Waiting("evaluating " + FlakeRules.subject(job) + " in pod " + name);
    }
    EvaluationResults.Outcome outcome = EvaluationResults.of(pod.get(), config.evaluation());
    if (outcome instanceof EvaluationResults.Outcome.Stalled st) {
      return new Progress.Blocked("the evaluation pod " + name + " " + st.why(), true);
    }
    if (outcome instanceof EvaluationResults.Outcome.NeverStarted ns) {
      // the deadline counts from the kubelet's taking the pod: a pod that never started is replaced, not the job
      // failed — once the image can be pulled, the next pod runs
      client.pods().inNamespace(job.getMetadata().getNamespace()).withName(name).delete();
      return new Progress.Blocked("the evaluation pod " + name + " " + ns.why() + "; it is replaced", false);
    }
    if (outcome instanceof EvaluationResults.Outcome.Working w) {
      return new Progress.Waiting("evaluating " + FlakeRules.subject(job) + " in pod " + name
          + (w.started() ? "" : " (pending)"));
    }
    // the pod posts before it exits, so the result is in the job by now, if there is one: ask the API server, not
    // the cache, which may lag behind the pod's informer
    NixekJob fresh = client.resources(NixekJob.class).inNamespace(job.getMetadata().getNamespace())
        .withName(job.getMetadata().getName()).get();
    if (fresh != null && EffectiveSteps.known(fresh)) {
      return new Progress.Evaluated(fresh);
    }
    if (outcome instanceof EvaluationResults.Outcome.Failed f) {
      return new Progress.Failed(f.message());
    }
    return new Progress.Failed("the evaluation pod " + name + " ended, but its result was not recorded");
  }

  /**
   * Creates what the pod needs, then the pod; true when this call created the pod. Throws {@link Refused} when the
   * API server refuses one of them (a missing ServiceAccount, a quota, an admission webhook, RBAC): the job waits
   * and says why, instead of the reconcile failing into JOSDK's bounded retry.
   */
  private boolean start(NixekJob job, Context<NixekJob> context) {
    String ns = job.getMetadata().getNamespace();
    String name = EvaluationPods.name(job);
    String token = tokens.evaluationTokenFor(job.getMetadata().getUid());
    // a private repository's own job fetches its flake with the repository's token (EvaluationTokens)
    Optional<String> forgeToken;
    try {
      forgeToken = forgeTokens.forEvaluation(job);
    } catch (KubernetesClientException e) {
      throw new Refused("the repository's token cannot be read: " + ApiRefusals.message(e, null), e);
    }
    BinaryCache c = cache;
    // the read token rides in the evaluation token's Secret: the Secret made first is the one the pod mounts
    Optional<CachePodSettings> cacheSettings = c == null ? Optional.empty()
        : c.settings(ns, config.evaluation().timeout());
    Secret secret = cacheSettings.map(s -> CachePods.withNetrc(pods.tokenSecret(job, token, forgeToken), s))
        .orElseGet(() -> pods.tokenSecret(job, token, forgeToken));
    Pod pod = pods.pod(job, forgeToken.isPresent());
    creating("the evaluation pod's Secret " + name, token, () -> KubeObjects.createIfAbsent(
        () -> client.secrets().inNamespace(ns).resource(secret).create()));
    if (job.getSpec().flake == null) {
      creating("the evaluation pod's ConfigMap " + name, token, () -> KubeObjects.createIfAbsent(
          () -> client.configMaps().inNamespace(ns).resource(pods.configMap(job)).create()));
    }
    boolean created = creating("the evaluation pod " + name, token,
        () -> OneShotNixPod.create(context, cacheSettings.map(s -> CachePods.withSettings(pod,
            EvaluationPods.CONTAINER, name, s, List.of())).orElse(pod), podSource));
    if (created) {
      LOG.info("job {}/{}: started evaluation pod {}", ns, job.getMetadata().getName(), EvaluationPods.name(job));
    }
    return created;
  }

  private static <T> T creating(String what, String token, Supplier<T> create) {
    try {
      return create.get();
    } catch (KubernetesClientException e) {
      throw new Refused(what + " cannot be created: " + ApiRefusals.message(e, token), e);
    }
  }

  /** The API server refused to create something the evaluation pod needs; the message says what and why. */
  private static final class Refused extends RuntimeException {
    Refused(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Ends what the evaluation left that matters: the plaintext token's Secret (the caller removes the token's record,
   * {@code status.evaluationTokenSha256}, in its status write; the token then stops working). The ConfigMap and the pod stay for reading (the pod's log) and go with the job.
   */
  public void release(NixekJob job) {
    client.secrets().inNamespace(job.getMetadata().getNamespace()).withName(EvaluationPods.name(job)).delete();
  }

  /** The job is deleted: its local evaluation, if any, is killed (a pod goes with the job by itself). */
  public void deleted(NixekJob job) {
    if (local != null) {
      local.forget(job);
    }
  }

  /** Stops a running evaluation (the job was cancelled or failed otherwise): its pod too. */
  public void stop(NixekJob job) {
    if (local != null) {
      local.stop(job);
    }
    release(job);
    client.pods().inNamespace(job.getMetadata().getNamespace()).withName(EvaluationPods.name(job)).delete();
  }
}
