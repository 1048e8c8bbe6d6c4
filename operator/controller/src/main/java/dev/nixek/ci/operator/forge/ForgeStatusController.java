package dev.nixek.ci.operator.forge;

import dev.nixek.ci.api.v1alpha1.NixekForgeStatus;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.operator.forge.ForgeStatusPoster.JobKey;
import dev.nixek.ci.operator.repository.RepositoryJobs;
import dev.nixek.ci.operator.repository.RepositorySecrets;
import dev.nixek.ci.operator.repository.RepositoryUrls;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commit statuses for the jobs repositories make (docs/repositories.md#commit-statuses): watches the jobs labelled
 * with a repository, and whenever the status a job should show ({@link JobCommitStatus}) is not what its
 * {@code status.forgeStatus} says was posted, hands it to the {@link ForgeStatusPoster}. Outside the job reconciler on
 * purpose: posting waits on the forge, reconciling must not. One per cluster (the leader's, like the collectors);
 * started again after a restart, the informer's first list submits what the last run had not posted.
 *
 * <p>The token comes from the repository's {@code spec.tokenSecretRef} at each post, never from the job; the forge's
 * API URL and {@code owner/name} from the repository's URL and {@code spec.forge}.
 */
public final class ForgeStatusController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ForgeStatusController.class);
  /** Default backoff of a status post: from 1 s, doubling, to at most 5 minutes. */
  public static final Duration INITIAL_DELAY = Duration.ofSeconds(1);
  public static final Duration MAX_DELAY = Duration.ofMinutes(5);
  private static final Duration RESYNC = Duration.ofMinutes(10);

  private final KubernetesClient client;
  private final List<String> namespaces;
  private final ForgeStatusApi api;
  private final Duration initialDelay;
  private final Duration maxDelay;
  private final RepositorySecrets secrets;
  private final List<SharedIndexInformer<NixekJob>> informers = new ArrayList<>();
  private ForgeStatusPoster poster;

  public ForgeStatusController(KubernetesClient client, List<String> namespaces, ForgeStatusApi api,
      Duration initialDelay, Duration maxDelay) {
    this.client = client;
    this.namespaces = List.copyOf(namespaces);
    this.api = api;
    this.initialDelay = initialDelay;
    this.maxDelay = maxDelay;
    this.secrets = new RepositorySecrets(client);
  }

  /** The production one: all watched namespaces (none: all), 10 s per request. */
  public static ForgeStatusController of(KubernetesClient client, List<String> namespaces) {
    return new ForgeStatusController(client, namespaces, new ForgeStatusApi(Duration.ofSeconds(10)), INITIAL_DELAY,
        MAX_DELAY);
  }

  /** Starts watching and posting (the leader, or every operator without leader election). */
  public synchronized void start() {
    if (poster != null) {
      return;
    }
    poster = new ForgeStatusPoster(api, new KubeSink(), initialDelay, maxDelay, 2);
    ResourceEventHandler<NixekJob> handler = new ResourceEventHandler<>() {
      @Override
      public void onAdd(NixekJob job) {
        consider(job);
      }

      @Override
      public void onUpdate(NixekJob old, NixekJob job) {
        consider(job);
      }

      @Override
      public void onDelete(NixekJob job, boolean finalStateUnknown) {
        ForgeStatusPoster p = poster;
        if (p != null) {
          p.forget(key(job));
        }
      }
    };
    if (namespaces.isEmpty()) {
      informers.add(client.resources(NixekJob.class).inAnyNamespace().withLabel(RepositoryJobs.REPOSITORY_LABEL)
          .inform(handler, RESYNC.toMillis()));
    } else {
      for (String ns : namespaces) {
        informers.add(client.resources(NixekJob.class).inNamespace(ns).withLabel(RepositoryJobs.REPOSITORY_LABEL)
            .inform(handler, RESYNC.toMillis()));
      }
    }
    LOG.info("commit statuses: watching the jobs of repositories");
  }

  /** Stops watching and posting (lost the lease, shutting down); what was not posted is resumed by the next one. */
  public synchronized void stop() {
    informers.forEach(SharedIndexInformer::close);
    informers.clear();
    if (poster != null) {
      poster.close();
      poster = null;
    }
  }

  @Override
  public void close() {
    stop();
  }

  /** Jobs with a status still to post. */
  public synchronized int backlog() {
    return poster == null ? 0 : poster.backlog();
  }

  private void consider(NixekJob job) {
    Optional<JobCommitStatus.Desired> desired = JobCommitStatus.of(job);
    if (desired.isEmpty()) {
      return;
    }
    NixekForgeStatus posted = job.getStatus() == null ? null : job.getStatus().forgeStatus;
    if (JobCommitStatus.same(posted, desired.get().status())) {
      return;
    }
    // a final status was posted: nothing earlier goes out after it (an old event, a resync)
    if (posted != null && posted.state != null && !CommitStatus.PENDING.equals(posted.state)
        && !desired.get().status().isFinal()) {
      return;
    }
    ForgeStatusPoster p = poster;
    if (p != null) {
      p.submit(key(job), desired.get());
    }
  }

  private static JobKey key(NixekJob job) {
    return new JobKey(job.getMetadata().getNamespace(), job.getMetadata().getName(), job.getMetadata().getUid());
  }

  /** Reads the job's repository and token when posting, and records what was posted in the job's status. */
  private final class KubeSink implements ForgeStatusPoster.Sink {
    @Override
    public Optional<ForgeTarget> target(JobKey key, String commit) {
      NixekJob job = client.resources(NixekJob.class).inNamespace(key.namespace()).withName(key.name()).get();
      if (job == null || !key.uid().equals(job.getMetadata().getUid())) {
        return Optional.empty();
      }
      Optional<NixekRepository> repo = RepositoryOfJob.of(client, job);
      if (repo.isEmpty() || repo.get().getSpec().tokenSecretRef == null || repo.get().getSpec().forge == null) {
        return Optional.empty();
      }
      String url = repo.get().getSpec().url;
      Optional<String> apiUrl = RepositoryUrls.apiUrl(repo.get().getSpec().forge, url);
      Optional<String> ownerName = RepositoryUrls.ownerAndName(url);
      if (apiUrl.isEmpty() || ownerName.isEmpty()) {
        return Optional.empty();
      }
      String token;
      try {
        token = secrets.read(repo.get(), repo.get().getSpec().tokenSecretRef, "spec.tokenSecretRef");
      } catch (RepositorySecrets.Invalid e) {
        LOG.warn("no commit status for {}: {}", key, e.getMessage());
        return Optional.empty();
      }
      return Optional.of(new ForgeTarget(repo.get().getSpec().forge.kind, apiUrl.get(), ownerName.get(), commit,
          token));
    }

    @Override
    public void recorded(JobKey key, CommitStatus status, Instant postedAt) {
      NixekForgeStatus s = new NixekForgeStatus();
      s.state = status.state();
      s.description = status.description();
      s.context = status.context();
      s.postedAt = postedAt.toString();
      // a merge patch of this one field under its own manager: the operator's server-side apply of the rest of the
      // status neither owns nor removes it; the uid precondition keeps it off a recreated job of the same name
      String body = Serialization.asJson(Map.of(
          "metadata", Map.of("uid", key.uid()),
          "status", Map.of("forgeStatus", s)));
      client.resources(NixekJob.class).inNamespace(key.namespace()).withName(key.name()).subresource("status")
          .patch(PatchContext.of(PatchType.JSON_MERGE), body);
    }
  }
}
