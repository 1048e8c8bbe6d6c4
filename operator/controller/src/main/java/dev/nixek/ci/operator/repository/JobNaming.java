package dev.nixek.ci.operator.repository;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The name of a repository's job: {@code <repository>-<short commit>-<job>}, deterministic so that a webhook and a
 * poll of the same commit make one job (create-if-absent), at most 63 characters (the name reaches pod and label
 * values), and a DNS subdomain. A name that had to be cut or cleaned (upper case, '_', a long repository name) ends in
 * 10 hex digits of the SHA-256 of repository, commit and job, so that "Build" and "build" stay two jobs.
 */
public final class JobNaming {
  static final int MAX = 63;
  static final int SHORT_COMMIT = 8;
  /** The attribute names a job may have: those a NixekJob's spec.flake.attribute accepts. */
  public static final Pattern JOB_NAME = Pattern.compile("^[A-Za-z_][A-Za-z0-9_'-]*$");
  private static final Pattern UNSAFE = Pattern.compile("[^a-z0-9-]+");

  private JobNaming() {}

  public static String jobName(String repository, String commit, String job) {
    String raw = repository + "-" + commit.substring(0, SHORT_COMMIT) + "-" + job;
    String clean = UNSAFE.matcher(raw.toLowerCase(Locale.ROOT)).replaceAll("-");
    if (clean.equals(raw) && clean.length() <= MAX && !clean.endsWith("-")) {
      return clean;
    }
    String hash = RefRules.sha256Hex(repository + "/" + commit + "/" + job).substring(0, 10);
    String head = clean.substring(0, Math.min(clean.length(), MAX - hash.length() - 1)).replaceAll("-+$", "");
    return head + "-" + hash;
  }
}
