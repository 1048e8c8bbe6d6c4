package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Where a job's full step logs are served and how to follow them (docs/logs.md#reading-logs): shown by
 * {@code kubectl describe nixekjob}. Written by the operator when it launches the job.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekJobLogs {
  /** The logs endpoint of this job: append {@code /steps/<index>}. */
  @JsonPropertyDescription("Base URL of this job's step logs on the report API (GET <url>/steps/<index>, with the "
      + "reader's Kubernetes bearer token; RBAC: get on nixekjobs/log).")
  public String url;

  /** The command that follows every step's log. */
  @JsonPropertyDescription("The command that prints (-f: follows) the job's step logs: the kubectl-nixek plugin.")
  public String command;

  public NixekJobLogs() {}

  public NixekJobLogs(String url, String command) {
    this.url = url;
    this.command = command;
  }
}
