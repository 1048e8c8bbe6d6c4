package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekArtifactStatus;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobArtifact;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.job.StepArtifacts;
import dev.nixek.ci.common.logs.ArtifactOptions;
import dev.nixek.ci.common.logs.ArtifactRef;
import dev.nixek.ci.common.logs.ArtifactStore;
import dev.nixek.ci.common.logs.ArtifactStore.StoredArtifact;
import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.status.ObjectBudget;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.StepsWriter;
import dev.nixek.ci.protocol.ArtifactFile;
import dev.nixek.ci.protocol.ArtifactPaths;
import dev.nixek.ci.protocol.ArtifactRefusal;
import dev.nixek.ci.protocol.ArtifactUpload;
import dev.nixek.ci.protocol.Json;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of artifacts (docs/artifacts.md), with the job token: hand out an upload URL for exactly one
 * declared file ({@link #upload}), check and list it once uploaded ({@link #complete}), list a file the agent refused
 * ({@link #refused}). Each call reads the job: the step must be Running (artifacts are uploaded before the agent
 * reports the step finished), the artifact declared by the step, the path one of its globs matches, and the file
 * within the limits. Blocking: call on a worker.
 */
final class ArtifactUploads {
  private static final Logger LOG = LoggerFactory.getLogger(ArtifactUploads.class);
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final int MAX_REASON = 512;

  private final KubernetesClient client;
  private final ArtifactStore store;
  private final ArtifactOptions options;
  private final StepsWriter steps;

  ArtifactUploads(KubernetesClient client, ArtifactStore store, ArtifactOptions options, StepsWriter steps) {
    this.client = client;
    this.store = store;
    this.options = options;
    this.steps = steps;
  }

  ArtifactUpload upload(TokenRecord record, int index, ArtifactFile file) throws IOException {
    checkFile(file);
    NixekJob job = runningStep(record, index);
    ArtifactRef ref = declared(record, job, index, file.name(), file.path());
    if (file.size() > options.fileLimitBytes()) {
      throw new ApiError(413, "artifact_too_large", file.name() + "/" + file.path() + " is " + file.size()
          + " bytes, over the limit of " + options.fileLimitBytes() + " (" + ArtifactOptions.FILE_LIMIT_BYTES.key()
          + ")");
    }
    long total = 0;
    int count = 0;
    for (StoredArtifact a : store.list(ref.job())) {
      if (a.ref().equals(ref)) {
        continue; // replaced by this upload
      }
      total += a.size();
      count++;
    }
    if (count + 1 > options.jobMaxFiles()) {
      throw new ApiError(413, "artifact_limit", "the job stored " + count + " artifact files, the limit ("
          + ArtifactOptions.JOB_MAX_FILES.key() + ")");
    }
    if (total + file.size() > options.jobLimitBytes()) {
      throw new ApiError(413, "artifact_limit", "the job's artifacts would take " + (total + file.size())
          + " bytes, over the limit of " + options.jobLimitBytes() + " (" + ArtifactOptions.JOB_LIMIT_BYTES.key()
          + ")");
    }
    ArtifactStore.UploadTarget t = store.prepare(ref, file.size(), file.sha256(), options.urlTtl());
    return new ArtifactUpload(t.url(), t.headers(), t.expiresAt().toString());
  }

  ReportOutcome complete(TokenRecord record, int index, ArtifactFile file) throws IOException {
    checkFile(file);
    NixekJob job = runningStep(record, index);
    ArtifactRef ref = declared(record, job, index, file.name(), file.path());
    try {
      store.commit(ref, file.size(), file.sha256());
    } catch (ArtifactStore.MismatchException e) {
      LOG.info("artifact {} of {} step {} refused: {}", file.name(), record.jobKey(), index, e.getMessage());
      throw new ApiError(422, "artifact_mismatch", file.name() + "/" + file.path() + ": " + e.getMessage()
          + "; nothing is listed");
    }
    NixekArtifactStatus s = new NixekArtifactStatus();
    s.name = file.name();
    s.path = file.path();
    s.size = file.size();
    s.sha256 = file.sha256();
    return list(record, index, s);
  }

  ReportOutcome refused(TokenRecord record, int index, ArtifactRefusal refusal) {
    if (refusal == null || refusal.reason() == null || refusal.reason().isBlank()) {
      throw ApiError.badRequest("a refusal needs a name, a path and a reason");
    }
    ArtifactPaths.checkName(refusal.name()).ifPresent(p -> {
      throw new ApiError(422, "invalid_report", p);
    });
    NixekJob job = runningStep(record, index);
    if (StepArtifacts.named(step(job, index).artifacts, refusal.name()).isEmpty()) {
      throw new ApiError(422, "invalid_report", "step " + index + " declares no artifact '" + refusal.name() + "'");
    }
    NixekArtifactStatus s = new NixekArtifactStatus();
    s.name = refusal.name();
    s.path = printable(refusal.path());
    s.error = printable(refusal.reason());
    return list(record, index, s);
  }

  /** Adds the entry to the step's status (or replaces one of the same name and path); over the bound, counts it. */
  private ReportOutcome list(TokenRecord record, int index, NixekArtifactStatus entry) {
    return steps.update(record.namespace(), record.jobName(), job -> {
      if (job == null || !record.jobUid().equals(job.getMetadata().getUid())) {
        return new ReportOutcome.Rejected(401, ReportWriter.TOKEN_REVOKED, "the job is gone");
      }
      List<NixekStepStatus> all = job.getStatus() == null ? null : job.getStatus().steps;
      if (all == null || index >= all.size() || all.get(index) == null) {
        return ReportOutcome.Rejected.conflict("step " + index + " has no status yet");
      }
      NixekStepStatus st = all.get(index);
      List<NixekArtifactStatus> listed = st.artifacts == null ? new ArrayList<>() : new ArrayList<>(st.artifacts);
      // bounded per job, not per step: etcd's object limit is per job (docs/architecture.md#status-budget); in
      // entries (NIXEK_ARTIFACT_STATUS_MAX) and in stored bytes (ObjectBudget.ARTIFACT_STATUS_MAX_BYTES)
      long bytesInJob = all.stream().filter(x -> x != null && x.artifacts != null)
          .flatMap(x -> x.artifacts.stream()).mapToLong(ArtifactUploads::storedBytes).sum();
      for (int i = 0; i < listed.size(); i++) {
        NixekArtifactStatus a = listed.get(i);
        if (entry.name.equals(a.name) && entry.path.equals(a.path)) {
          if (java.util.Objects.equals(a.sha256, entry.sha256) && java.util.Objects.equals(a.error, entry.error)
              && java.util.Objects.equals(a.size, entry.size)) {
            return new ReportOutcome.Duplicate();
          }
          if (bytesInJob - storedBytes(a) + storedBytes(entry) <= ObjectBudget.ARTIFACT_STATUS_MAX_BYTES) {
            listed.set(i, entry);
          } else {
            listed.remove(i);
            st.artifactsNotListed = (st.artifactsNotListed == null ? 0 : st.artifactsNotListed) + 1;
          }
          st.artifacts = listed;
          return new ReportOutcome.Applied(all);
        }
      }
      int listedInJob = all.stream().filter(x -> x != null && x.artifacts != null).mapToInt(x -> x.artifacts.size())
          .sum();
      if (listedInJob < options.statusMax()
          && bytesInJob + storedBytes(entry) <= ObjectBudget.ARTIFACT_STATUS_MAX_BYTES) {
        listed.add(entry);
        st.artifacts = listed;
      } else {
        st.artifactsNotListed = (st.artifactsNotListed == null ? 0 : st.artifactsNotListed) + 1;
      }
      return new ReportOutcome.Applied(all);
    });
  }

  /** An entry as etcd stores it, with the comma that separates it from the next. */
  static long storedBytes(NixekArtifactStatus entry) {
    try {
      return ObjectBudget.storedBytes(Json.mapper().writeValueAsString(entry)) + 1;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private NixekJob runningStep(TokenRecord record, int index) {
    NixekJob job = client.resources(NixekJob.class).inNamespace(record.namespace()).withName(record.jobName()).get();
    if (job == null || !record.jobUid().equals(job.getMetadata().getUid())) {
      throw new ApiError(401, ReportWriter.TOKEN_REVOKED, "the job is gone");
    }
    record.supersededIn(job).ifPresent(r -> {
      throw new ApiError(r.httpStatus(), r.error(), r.message());
    });
    List<NixekStepStatus> st = job.getStatus() == null ? null : job.getStatus().steps;
    NixekStepStatus.State state = st == null || index >= st.size() || st.get(index) == null ? null
        : st.get(index).state;
    if (state != NixekStepStatus.State.Running) {
      throw new ApiError(409, "conflict", "step " + index + " is " + (state == null ? "unknown" : state)
          + ": artifacts are uploaded while the step is Running, before it is reported finished");
    }
    return job;
  }

  private static NixekJobStep step(NixekJob job, int index) {
    List<NixekJobStep> s = EffectiveSteps.orEmpty(job);
    if (index >= s.size()) {
      throw new ApiError(404, "unknown_step", "the job has no step " + index);
    }
    return s.get(index);
  }

  private static ArtifactRef declared(TokenRecord record, NixekJob job, int index, String name, String path) {
    NixekJobArtifact a = StepArtifacts.named(step(job, index).artifacts, name).orElseThrow(() ->
        new ApiError(422, "invalid_report", "step " + index + " declares no artifact '" + name + "'"));
    if (!ArtifactPaths.matches(a.paths, path)) {
      throw new ApiError(422, "invalid_report", "'" + path + "' matches none of artifact '" + name + "''s paths "
          + a.paths);
    }
    return new ArtifactRef(new JobLogs(record.namespace(), record.jobName(), record.jobUid()), index, name, path);
  }

  private static void checkFile(ArtifactFile f) {
    if (f == null) {
      throw ApiError.badRequest("the request has no body");
    }
    ArtifactPaths.checkName(f.name()).or(() -> ArtifactPaths.checkPath(f.path())).ifPresent(p -> {
      throw new ApiError(422, "invalid_report", p);
    });
    if (f.size() < 0) {
      throw new ApiError(422, "invalid_report", "size must not be negative");
    }
    if (f.sha256() == null || !SHA256.matcher(f.sha256()).matches()) {
      throw new ApiError(422, "invalid_report", "sha256 must be 64 lower-case hex digits");
    }
  }

  /** A value from the agent, as status can hold it: no control characters, bounded. */
  private static String printable(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    s.codePoints().limit(MAX_REASON).forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return b.toString();
  }
}
