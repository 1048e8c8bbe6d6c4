package dev.nixek.ci.operator.repository;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekJobSource;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.kube.KubeObjects;
import dev.nixek.ci.common.kube.Owners;
import dev.nixek.ci.common.status.Conditions;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A repository's jobs as Kubernetes objects: one {@link NixekJob} per job of a commit ({@code spec.flake} at the
 * commit, {@code spec.source} for the checkout), labelled with repository, ref and commit, owned by the repository;
 * created if absent (deterministic names make a webhook and a poll create one job), cancelled with
 * {@code spec.cancel}, deleted by retention.
 */
public final class RepositoryJobs {
  /** The repository's name (bounded) on its jobs. */
  public static final String REPOSITORY_LABEL = "ci.nixek.dev/repository";
  /** The ref (sanitised, bounded) on a repository's jobs. */
  public static final String REF_LABEL = "ci.nixek.dev/ref";
  /** The commit on a repository's jobs (a full SHA-1; a SHA-256 cut to 63). */
  public static final String COMMIT_LABEL = "ci.nixek.dev/commit";
  /** The full ref, exactly, on a repository's jobs: retention groups by it. */
  public static final String REF_ANNOTATION = "ci.nixek.dev/git-ref";
  /** The full commit, on a repository's jobs and commit evaluation pods. */
  public static final String COMMIT_ANNOTATION = "ci.nixek.dev/git-commit";
  /** On the jobs of a pull request from a fork: they get none of the repository's spec.secrets. */
  public static final String FORK_LABEL = "ci.nixek.dev/fork";
  /** The job's name in the flake's job attribute. */
  public static final String JOB_ANNOTATION = "ci.nixek.dev/flake-job";

  private final KubernetesClient client;

  public RepositoryJobs(KubernetesClient client) {
    this.client = client;
  }

  /** The job {@code name} of {@code commit} at {@code ref}. */
  public static NixekJob job(NixekRepository repo, String ref, String commit, String attribute, String name) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder()
        .withName(JobNaming.jobName(repo.getMetadata().getName(), commit, name))
        .withNamespace(repo.getMetadata().getNamespace())
        .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
        .addToLabels(REPOSITORY_LABEL, RefRules.labelValue(repo.getMetadata().getName()))
        .addToLabels(REF_LABEL, RefRules.refLabel(ref))
        .addToLabels(COMMIT_LABEL, commit.substring(0, Math.min(commit.length(), 63)))
        .addToAnnotations(REF_ANNOTATION, ref)
        .addToAnnotations(COMMIT_ANNOTATION, commit)
        .addToAnnotations(JOB_ANNOTATION, name)
        .withOwnerReferences(Owners.controller(repo))
        .build());
    NixekJobSpec spec = new NixekJobSpec();
    NixekJobFlake flake = new NixekJobFlake();
    flake.url = RepositoryUrls.flakeUrl(repo.getSpec().url);
    flake.rev = commit;
    flake.attribute = attribute + "." + name;
    spec.flake = flake;
    spec.source = new NixekJobSource(repo.getSpec().url, commit);
    job.setSpec(spec);
    return job;
  }

  /** Creates {@code job} unless a job of its name exists; true when this call created it. */
  public boolean createIfAbsent(NixekJob job) {
    return KubeObjects.createIfAbsent(() -> client.resources(NixekJob.class)
        .inNamespace(job.getMetadata().getNamespace()).resource(job).create()).isPresent();
  }

  /** The jobs {@code repo} owns (by label, then by owner UID: a label can be set by anyone). */
  public List<NixekJob> owned(NixekRepository repo) {
    String uid = repo.getMetadata().getUid();
    List<NixekJob> out = new ArrayList<>();
    for (NixekJob j : client.resources(NixekJob.class).inNamespace(repo.getMetadata().getNamespace())
        .withLabel(REPOSITORY_LABEL, RefRules.labelValue(repo.getMetadata().getName())).list().getItems()) {
      List<OwnerReference> owners = j.getMetadata().getOwnerReferences();
      if (owners != null && owners.stream().anyMatch(o -> uid.equals(o.getUid()))) {
        out.add(j);
      }
    }
    return out;
  }

  /** {@code jobs} as retention sees them. */
  public static List<Retention.Job> forRetention(List<NixekJob> jobs) {
    List<Retention.Job> out = new ArrayList<>();
    for (NixekJob j : jobs) {
      Map<String, String> a = j.getMetadata().getAnnotations();
      if (a == null || a.get(REF_ANNOTATION) == null || a.get(COMMIT_ANNOTATION) == null) {
        continue;
      }
      boolean finished = j.getStatus() != null && Conditions.isTerminal(j.getStatus());
      boolean cancelled = j.getSpec() != null && Boolean.TRUE.equals(j.getSpec().cancel);
      String created = j.getMetadata().getCreationTimestamp() == null ? "" : j.getMetadata().getCreationTimestamp();
      out.add(new Retention.Job(j.getMetadata().getName(), a.get(REF_ANNOTATION), a.get(COMMIT_ANNOTATION), created,
          finished, cancelled));
    }
    return out;
  }

  /** Sets {@code spec.cancel} on the job (a merge patch: the only spec field that may change). */
  public void cancel(String namespace, String name) {
    client.resources(NixekJob.class).inNamespace(namespace).withName(name)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"cancel\":true}}");
  }

  public void delete(String namespace, String name) {
    client.resources(NixekJob.class).inNamespace(namespace).withName(name).delete();
  }
}
