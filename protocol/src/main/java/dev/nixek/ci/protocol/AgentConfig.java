package dev.nixek.ci.protocol;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Everything the agent needs to run one job. On EC2 this is the instance's user-data; with the {@code local}
 * provider it is a file. Both hold exactly this JSON document.
 *
 * <p>The token is a short-lived, single-job credential (docs/security.md#what-is-exposed): it is the only secret here, and
 * {@link #toString()} never shows it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AgentConfig(
    String version,
    String jobUid,
    String namespace,
    String name,
    String reportUrl,
    String token,
    List<AgentStep> steps,
    Boolean poweroff) {

  /** The only config version this agent understands. */
  public static final String VERSION = "nixek.dev/agent-config/v1";

  public AgentConfig {
    steps = steps == null ? List.of() : List.copyOf(steps);
  }

  /** Whether the agent powers the machine off when it is done (EC2), or just exits (local). */
  @JsonIgnore
  public boolean shouldPowerOff() {
    return Boolean.TRUE.equals(poweroff);
  }

  /** The path prefix of this job's report endpoints, e.g. {@code /v1/jobs/ns/name}. */
  @JsonIgnore
  public String jobPath() {
    return ReportPaths.job(namespace, name);
  }

  @Override
  public String toString() {
    return "AgentConfig[version=" + version + ", jobUid=" + jobUid + ", namespace=" + namespace + ", name=" + name
        + ", reportUrl=" + reportUrl + ", token=<redacted>, steps=" + steps.size() + ", poweroff=" + poweroff + "]";
  }
}
