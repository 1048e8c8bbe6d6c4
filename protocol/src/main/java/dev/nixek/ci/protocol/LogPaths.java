package dev.nixek.ci.protocol;

import java.net.URI;

/**
 * The report API's log-reading paths (docs/logs.md#reading-logs): {@code GET /v1/logs/<ns>/<name>/steps/<index>},
 * answered to a Kubernetes user whose RBAC allows {@code get} on {@code nixekjobs/log}.
 */
public final class LogPaths {
  /** Query parameter: the first byte to send (default 0). */
  public static final String OFFSET = "offset";
  /** Query parameter: send at most this many bytes (default: all). */
  public static final String LIMIT = "limit";
  /** Query parameter: {@code true} to keep sending new bytes until the step ends. */
  public static final String FOLLOW = "follow";
  /** Response header: the bytes stored for the step when the answer began. */
  public static final String STORED_BYTES_HEADER = "X-Nixek-Log-Bytes";
  /** Response header: {@code true} when the step had ended when the answer began (no byte will be added). */
  public static final String COMPLETE_HEADER = "X-Nixek-Log-Complete";

  private LogPaths() {}

  /** The path of a job's logs; a step's log is below it ({@link #step}). */
  public static String job(String namespace, String name) {
    return "/v1/logs/" + namespace + "/" + name;
  }

  public static String step(String namespace, String name, int index) {
    return job(namespace, name) + "/steps/" + index;
  }

  /** {@code reportUrl} (the report API's base URL, with or without a trailing slash) plus {@link #job}. */
  public static String jobUrl(URI reportUrl, String namespace, String name) {
    String base = reportUrl.toString();
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    return base + job(namespace, name);
  }

  /** The kubectl plugin command that follows every step of the job. */
  public static String followCommand(String namespace, String name) {
    return "kubectl nixek logs -f -n " + namespace + " " + name;
  }
}
