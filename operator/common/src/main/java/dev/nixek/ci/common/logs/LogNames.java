package dev.nixek.ci.common.logs;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The relative path of a job's or a step's logs inside a store ({@code <namespace>/<jobName>/<jobUid>}), after
 * checking each part is what Kubernetes allows there: a namespace is a DNS label, a job name a DNS subdomain, a uid
 * letters, digits and '-'. None of them can hold '/', a leading '.' or "..", so no name escapes the store's directory
 * or key prefix, whatever the caller passes.
 */
final class LogNames {
  private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern UID = Pattern.compile("[0-9A-Za-z]([-0-9A-Za-z]{0,126}[0-9A-Za-z])?");

  private LogNames() {}

  /** {@code <namespace>/<jobName>/<jobUid>}; throws {@link IllegalArgumentException} naming the bad part. */
  static String jobPath(JobLogs job) {
    return check("namespace", job.namespace(), isNamespace(job.namespace())) + "/"
        + check("job name", job.jobName(), isJobName(job.jobName())) + "/"
        + check("job uid", job.jobUid(), isUid(job.jobUid()));
  }

  /** {@code <namespace>/<jobName>/<jobUid>/steps/<index>}. */
  static String stepPath(StepLog log) {
    return jobPath(log.job()) + "/steps/" + log.stepIndex();
  }

  /** The job whose path this is, or empty when the three parts are not a valid job path (a stray file). */
  static Optional<JobLogs> parseJob(String namespace, String jobName, String jobUid) {
    return isNamespace(namespace) && isJobName(jobName) && isUid(jobUid)
        ? Optional.of(new JobLogs(namespace, jobName, jobUid)) : Optional.empty();
  }

  static boolean isNamespace(String s) {
    return NAMESPACE.matcher(s).matches();
  }

  static boolean isJobName(String s) {
    if (s.isEmpty() || s.length() > 253) {
      return false;
    }
    for (String label : s.split("\\.", -1)) {
      if (!LABEL.matcher(label).matches()) {
        return false;
      }
    }
    return true;
  }

  static boolean isUid(String s) {
    return UID.matcher(s).matches();
  }

  private static String check(String what, String value, boolean ok) {
    if (!ok) {
      throw new IllegalArgumentException("invalid " + what + " for a log path: '" + abbreviate(value) + "'");
    }
    return value;
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
