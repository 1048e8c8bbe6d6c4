package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.common.token.JobTokens.Purpose;
import java.util.Optional;

/**
 * A token record as the operator wrote it to a job's status: the job the token belongs to, what the token may be
 * used for, and the token's SHA-256. The plaintext token is never part of it.
 *
 * @param namespace the job's namespace
 * @param jobName the job's name
 * @param jobUid the job's UID
 * @param tokenId the token's id in logs (the first 128 bits of its hash)
 * @param sha256Hex the token's SHA-256, hex ({@code status.stepTokenSha256} or {@code status.evaluationTokenSha256})
 * @param purpose what the token may be used for (which of the two fields holds the hash)
 */
record TokenRecord(String namespace, String jobName, String jobUid, String tokenId, String sha256Hex,
    Purpose purpose) {
  /** Step {@code index}'s log in the log store. */
  dev.nixek.ci.common.logs.StepLog step(int index) {
    return new dev.nixek.ci.common.logs.StepLog(namespace, jobName, jobUid, index);
  }

  /** The key reports of one job are serialized on. */
  String jobKey() {
    return namespace + "/" + jobName;
  }

  /**
   * 401 when {@code job} — this token's job, as just read — no longer records this token: a new launch attempt
   * replaced it, or the evaluation was recorded. Checked on the read every write makes, so an old attempt's token is
   * refused at once, whatever the watched cache still says. Empty for another or no job (the writers say why).
   */
  Optional<Rejected> supersededIn(NixekJob job) {
    if (job == null || job.getMetadata() == null || !jobUid.equals(job.getMetadata().getUid())) {
      return Optional.empty();
    }
    String recorded = job.getStatus() == null ? null : purpose == Purpose.STEPS ? job.getStatus().stepTokenSha256
        : job.getStatus().evaluationTokenSha256;
    if (sha256Hex.equals(recorded)) {
      return Optional.empty();
    }
    return Optional.of(new Rejected(401, ReportWriter.TOKEN_REVOKED, purpose == Purpose.STEPS
        ? "this token is no longer the job's: a new launch attempt replaced it"
        : "this evaluation token is no longer the job's: the evaluation is recorded"));
  }
}
