package dev.nixek.ci.report;


import dev.nixek.ci.common.token.JobTokens.Purpose;

/**
 * What a job's token Secret says: the job the token belongs to, what the token may be used for, and the token's
 * SHA-256. The plaintext token is never part of it.
 *
 * @param namespace the job's namespace (the Secret's)
 * @param jobName the job's name (annotation {@code ci.nixek.dev/job-name})
 * @param jobUid the job's UID (label {@code ci.nixek.dev/job-uid})
 * @param tokenId the token's lookup id (label {@code ci.nixek.dev/token-id})
 * @param sha256Hex the token's SHA-256, hex (data key {@code sha256})
 * @param purpose what the token may be used for (label {@code ci.nixek.dev/token-purpose}; absent: steps)
 */
record TokenRecord(String namespace, String jobName, String jobUid, String tokenId, String sha256Hex,
    Purpose purpose) {
  /** The key reports of one job are serialized on. */
  String jobKey() {
    return namespace + "/" + jobName;
  }
}
