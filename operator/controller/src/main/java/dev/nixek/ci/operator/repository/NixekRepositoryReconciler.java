package dev.nixek.ci.operator.repository;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryHead;
import dev.nixek.ci.api.v1alpha1.NixekRepositorySpec;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryStatus;
import dev.nixek.ci.common.seal.SealContexts;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.FieldManagers;
import dev.nixek.ci.common.status.GitOpsConditions;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.evaluation.LocalCommitEvaluations;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a {@link NixekRepository}'s heads (docs/repositories.md): every {@code spec.pollInterval}, and at once when
 * the report API records a webhook delivery in {@code status.webhook}, it lists the heads with {@code git ls-remote}
 * and the open pull requests with the forge API, evaluates each new head commit's job names in a commit evaluation
 * pod (a local process where pods cannot run), creates one {@link NixekJob} per job, cancels superseded commits'
 * unfinished jobs, deletes jobs past {@code keepCommits}, seals the webhook secret into the status for the report API, and says how it went in the
 * {@code Ready} condition (with Reconciling and Stalled derived) and Events.
 */
@ControllerConfiguration(name = "nixekrepository", generationAwareEventProcessing = false,
    fieldManager = FieldManagers.OPERATOR, informer = @Informer(onUpdateFilter = NudgeFilter.class))
public class NixekRepositoryReconciler implements Reconciler<NixekRepository> {
  private static final Logger LOG = LoggerFactory.getLogger(NixekRepositoryReconciler.class);
  static final Duration PENDING_RECHECK = Duration.ofSeconds(10);
  /** The purpose of the sealed webhook secret in its seal context ({@link SealContexts#repository}). */
  public static final String WEBHOOK_SECRET = "webhook-secret";

  private final OperatorConfig config;
  private final Clock clock;
  private final EventRecorder events;
  private final Supplier<Sealer> sealer;
  private final LsRemote lsRemote;
  private final ForgeClient forge;
  private final CommitEvaluations evaluations;
  private final RepositoryJobs jobs;
  private final RepositorySecrets secrets;
  private final RepositoryStatusWriter writer;

  /**
   * @param sealer the operator's sealer ({@code SealKeyStore.lazySealer} of NIXEK_SEAL_KEY_SECRET, shared with the
   *     jobs' secrets); while its key cannot be loaded the webhook secret is not sealed, so the report API refuses
   *     webhooks and polling alone finds commits, and the next reconcile tries again
   */
  public NixekRepositoryReconciler(KubernetesClient client, OperatorConfig config, Clock clock, EventRecorder events,
      Supplier<Sealer> sealer, ForgeClient forge) {
    this(client, config, clock, events, sealer, forge, null);
  }

  /**
   * @param localEvaluations where pods cannot run (the evaluation runner is local): commits are evaluated by local
   *     processes; null: in commit evaluation pods
   */
  public NixekRepositoryReconciler(KubernetesClient client, OperatorConfig config, Clock clock, EventRecorder events,
      Supplier<Sealer> sealer, ForgeClient forge, LocalCommitEvaluations localEvaluations) {
    this.config = config;
    this.clock = clock;
    this.events = events;
    this.sealer = sealer;
    this.lsRemote = new LsRemote("git", config.repositories().allowFileUrls());
    this.forge = forge;
    this.evaluations = new CommitEvaluations(client, config, localEvaluations);
    this.jobs = new RepositoryJobs(client);
    this.secrets = new RepositorySecrets(client);
    this.writer = new RepositoryStatusWriter(config.useSsa());
  }

  @Override
  public List<EventSource<?, NixekRepository>> prepareEventSources(EventSourceContext<NixekRepository> context) {
    List<EventSource<?, NixekRepository>> sources = new ArrayList<>();
    sources.add(evaluations.eventSource(context));
    evaluations.local().ifPresent(sources::add);
    return sources;
  }

  @Override
  public UpdateControl<NixekRepository> reconcile(NixekRepository repo, Context<NixekRepository> context)
      throws InterruptedException {
    NixekRepositorySpec spec = repo.getSpec();
    Long generation = repo.getMetadata().getGeneration();
    NixekRepositoryStatus old = repo.getStatus();
    boolean newGeneration = old == null || !Objects.equals(old.observedGeneration, generation);
    NixekRepositoryStatus st = RepositoryStatusWriter.share(old);
    st.observedGeneration = generation;
    Duration poll = Durations.parse(spec == null ? null : spec.pollInterval,
        Duration.ofMinutes(5));

    Optional<String> invalid = RepositoryValidation.problem(repo, config.repositories());
    if (invalid.isPresent()) {
      events.record(repo, EventReason.InvalidSpec, invalid.get());
      return finish(context, repo, st, ConditionReason.InvalidSpec, invalid.get(), poll);
    }
    String token;
    try {
      token = secrets.read(repo, spec.tokenSecretRef, "spec.tokenSecretRef");
      String webhookSecret = secrets.read(repo, spec.webhookSecretRef, "spec.webhookSecretRef");
      st.sealedWebhookSecret = sealed(repo, webhookSecret, old);
    } catch (RepositorySecrets.Invalid e) {
      events.record(repo, EventReason.SecretInvalid, e.getMessage());
      return finish(context, repo, st, ConditionReason.SecretInvalid, e.getMessage(), poll);
    }
    if (newGeneration) {
      // a slow ls-remote should not leave the last generation's verdict standing
      st = withReady(st, ConditionReason.Polling, "listing the heads of " + spec.url, generation);
      repo = writer.write(context, repo, st);
      st = RepositoryStatusWriter.share(repo.getStatus());
    }

    List<HeadSelection.Candidate> candidates;
    try {
      LsRemote.Heads heads = lsRemote.list(spec.url, token);
      List<ForgeClient.PullRequest> pulls = List.of();
      if (pullRequestsEnabled(spec)) {
        pulls = forge.openPullRequests(spec.forge.kind,
            RepositoryUrls.apiUrl(spec.forge, spec.url).orElseThrow(),
            RepositoryUrls.ownerAndName(spec.url).orElseThrow(), token);
      }
      candidates = HeadSelection.select(heads, HeadSelection.branchPatterns(spec, heads.defaultBranch()), pulls,
          spec.pullRequests != null && Boolean.TRUE.equals(spec.pullRequests.forks));
    } catch (LsRemote.Failure | ForgeClient.Failure e) {
      events.record(repo, EventReason.RepositoryUnreachable, e.getMessage());
      return finish(context, repo, st, ConditionReason.RepositoryUnreachable, e.getMessage(), poll);
    }

    String attribute = spec.attribute == null ? NixekRepositorySpec.DEFAULT_ATTRIBUTE : spec.attribute;
    String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    List<NixekRepositoryHead> heads = new ArrayList<>();
    Map<String, String> built = new LinkedHashMap<>();
    int pending = 0;
    for (HeadSelection.Candidate c : candidates) {
      NixekRepositoryHead prev = find(old, c.ref());
      String time = prev != null && c.commit().equals(prev.commit) && prev.time != null ? prev.time : now;
      if (c.skipped() != null) {
        heads.add(new NixekRepositoryHead(c.ref(), c.commit(), null, c.skipped(), time));
        continue;
      }
      built.put(c.ref(), c.commit());
      if (!newGeneration && prev != null && c.commit().equals(prev.commit)
          && (prev.jobs != null || prev.reason != null)) {
        heads.add(prev);
        continue;
      }
      NixekRepositoryHead head = new NixekRepositoryHead(c.ref(), c.commit(), null, null, time);
      if (!commit(repo, c, attribute, token, head, context)) {
        pending++;
      }
      heads.add(head);
    }
    heads.sort(Comparator.comparing(h -> h.ref));
    st.heads = heads;
    st.lastPollTime = now;
    prune(repo, built, spec);

    Optional<NixekRepositoryHead> failed = heads.stream().filter(h -> h.reason != null).findFirst();
    if (failed.isPresent()) {
      NixekRepositoryHead f = failed.get();
      long more = heads.stream().filter(h -> h.reason != null).count() - 1;
      String message = f.ref + " at " + f.commit.substring(0, 12) + ": " + f.skipped
          + (more > 0 ? " (and " + more + " more heads)" : "");
      return finish(context, repo, st, ConditionReason.parse(f.reason).orElse(ConditionReason.CommitEvaluationFailed),
          message, pending > 0 ? PENDING_RECHECK : poll);
    }
    if (pending > 0) {
      return finish(context, repo, st, ConditionReason.EvaluatingCommits, "evaluating the jobs of " + pending
          + " new head commit" + (pending == 1 ? "" : "s"), PENDING_RECHECK);
    }
    long jobCount = heads.stream().mapToLong(h -> h.jobs == null ? 0 : h.jobs.size()).sum();
    return finish(context, repo, st, ConditionReason.Synced, heads.size() + " head" + (heads.size() == 1 ? "" : "s")
        + " built, " + jobCount + " job" + (jobCount == 1 ? "" : "s") + " for their commits", poll);
  }

  /**
   * Evaluates and makes the jobs of one head commit into {@code head}; false while the evaluation (or the creation,
   * refused by the API server) is still to come.
   */
  private boolean commit(NixekRepository repo, HeadSelection.Candidate c, String attribute, String token,
      NixekRepositoryHead head, Context<NixekRepository> context) {
    CommitEvaluations.Outcome outcome = evaluations.progress(repo, c.commit(), attribute, c.fork(), token, context);
    if (outcome instanceof CommitEvaluations.Outcome.Waiting) {
      return false;
    }
    if (outcome instanceof CommitEvaluations.Outcome.Names n) {
      List<String> names = n.names().stream().sorted().toList();
      Optional<String> bad = names.stream().filter(x -> !JobNaming.JOB_NAME.matcher(x).matches()).findFirst();
      if (bad.isPresent()) {
        outcome = new CommitEvaluations.Outcome.Failed(ConditionReason.NotAJobSet, attribute + " has a job named '"
            + bad.get() + "', which a NixekJob's spec.flake.attribute cannot name (letters, digits, _ ' -)");
      } else {
        int created = 0;
        try {
          for (String name : names) {
            NixekJob job = RepositoryJobs.job(repo, c.ref(), c.commit(), attribute, name);
            if (c.fork()) {
              job.getMetadata().getLabels().put(RepositoryJobs.FORK_LABEL, "true");
            }
            if (jobs.createIfAbsent(job)) {
              created++;
            }
          }
        } catch (KubernetesClientException e) {
          events.record(repo, EventReason.CommitSkipped, "the jobs of " + c.commit() + " (" + c.ref()
              + ") cannot be created yet: HTTP " + e.getCode() + " " + e.getStatus().getMessage());
          return false;
        }
        LOG.info("repository {}/{}: {} of {} jobs created for {} of {}", repo.getMetadata().getNamespace(),
            repo.getMetadata().getName(), created, names.size(), c.commit(), c.ref());
        head.jobs = names.stream().map(x -> JobNaming.jobName(repo.getMetadata().getName(), c.commit(), x)).toList();
        if (created > 0) {
          events.record(repo, EventReason.CommitJobsCreated, "created " + created + " job" + (created == 1 ? "" : "s")
              + " for " + c.commit().substring(0, 12) + " of " + c.ref() + ": " + String.join(", ", names));
        }
        evaluations.release(repo, c.commit(), attribute);
        return true;
      }
    }
    CommitEvaluations.Outcome.Failed f = (CommitEvaluations.Outcome.Failed) outcome;
    LOG.info("repository {}/{}: {} of {} gets no jobs ({}): {}", repo.getMetadata().getNamespace(),
        repo.getMetadata().getName(), c.commit(), c.ref(), f.reason(), f.message());
    head.reason = f.reason().name();
    head.skipped = f.message();
    events.record(repo, EventReason.CommitSkipped, c.ref() + " at " + c.commit().substring(0, 12) + " gets no jobs ("
        + f.reason() + "): " + f.message());
    evaluations.release(repo, c.commit(), attribute);
    return true;
  }

  /** Cancels superseded commits' unfinished jobs and deletes those past keepCommits. */
  private void prune(NixekRepository repo, Map<String, String> built, NixekRepositorySpec spec) {
    String ns = repo.getMetadata().getNamespace();
    Retention.Plan plan = Retention.plan(RepositoryJobs.forRetention(jobs.owned(repo)), built,
        spec.keepCommits == null ? NixekRepositorySpec.DEFAULT_KEEP_COMMITS : spec.keepCommits,
        spec.cancelSuperseded == null || spec.cancelSuperseded);
    if (!plan.cancel().isEmpty() || !plan.delete().isEmpty()) {
      LOG.info("repository {}/{}: cancelling {}, deleting {}", ns, repo.getMetadata().getName(), plan.cancel(),
          plan.delete());
    }
    for (String name : plan.cancel()) {
      jobs.cancel(ns, name);
    }
    if (!plan.cancel().isEmpty()) {
      events.record(repo, EventReason.JobsSuperseded, "cancelled " + plan.cancel().size()
          + " unfinished job(s) of superseded commits: " + String.join(", ", plan.cancel()));
    }
    for (String name : plan.delete()) {
      jobs.delete(ns, name);
    }
    if (!plan.delete().isEmpty()) {
      events.record(repo, EventReason.JobsPruned, "deleted " + plan.delete().size()
          + " job(s) of commits past spec.keepCommits: " + String.join(", ", plan.delete()));
    }
  }

  /**
   * The webhook secret sealed for the report API: the status's blob when it still opens to the same value (a seal
   * is randomised, so resealing every reconcile would rewrite the status each time), else a new one.
   */
  private String sealed(NixekRepository repo, String secret, NixekRepositoryStatus old) {
    if (secret == null) {
      return null;
    }
    Sealer sealer;
    try {
      sealer = this.sealer.get();
    } catch (RuntimeException e) {
      LOG.warn("{}/{}: the webhook secret is not sealed (webhooks are refused until it is): the seal key cannot be "
          + "loaded: {}", repo.getMetadata().getNamespace(), repo.getMetadata().getName(), e.toString());
      return null;
    }
    String context = SealContexts.repository(WEBHOOK_SECRET, repo.getMetadata().getNamespace(),
        repo.getMetadata().getName(), repo.getMetadata().getUid());
    if (old != null && old.sealedWebhookSecret != null) {
      try {
        if (secret.equals(sealer.openString(old.sealedWebhookSecret, context))) {
          return old.sealedWebhookSecret;
        }
      } catch (RuntimeException e) {
        // another key, another object or tampered with: seal anew
      }
    }
    return sealer.seal(secret, context);
  }

  private static boolean pullRequestsEnabled(NixekRepositorySpec spec) {
    return spec.pullRequests == null || spec.pullRequests.enabled == null || spec.pullRequests.enabled;
  }

  private static NixekRepositoryHead find(NixekRepositoryStatus status, String ref) {
    if (status == null || status.heads == null) {
      return null;
    }
    return status.heads.stream().filter(h -> ref.equals(h.ref)).findFirst().orElse(null);
  }

  private NixekRepositoryStatus withReady(NixekRepositoryStatus st, ConditionReason reason, String message,
      Long generation) {
    Instant now = clock.instant();
    st.conditions = GitOpsConditions.forImage(
        Conditions.with(st.conditions, Conditions.READY, reason, message, generation, now), now);
    return st;
  }

  private UpdateControl<NixekRepository> finish(Context<NixekRepository> context, NixekRepository repo,
      NixekRepositoryStatus st, ConditionReason reason, String message, Duration after) {
    withReady(st, reason, message, repo.getMetadata().getGeneration());
    if (!RepositoryStatusWriter.same(repo.getStatus(), st)) {
      writer.write(context, repo, st);
    }
    return UpdateControl.<NixekRepository>noUpdate().rescheduleAfter(after);
  }
}
