package dev.nixek.ci.protocol;

/**
 * The report API's paths. The job in the path is only checked against the job the token belongs to; the token,
 * not the path, decides which job a report is for (docs/architecture.md#token-protocol).
 */
public final class ReportPaths {
  /** Step {@code index} (0-based) started. Body: {@link StepStarted}. */
  public static final String STARTED = "started";
  /** A chunk of step {@code index}'s output. Body: {@link OutputChunk}. */
  public static final String OUTPUT = "output";
  /** Step {@code index} finished. Body: {@link StepFinished}. */
  public static final String FINISHED = "finished";
  /** A job's evaluation result, posted once by its evaluation pod. Body: {@link EvaluationResult}. */
  public static final String EVALUATION = "evaluation";
  /** The agent stopped the job early and says why. Body: {@link AgentEnded}. */
  public static final String AGENT_ENDED = "agent-ended";
  /** The job's secret values, fetched by its agent while the job runs (GET). Answer: {@link JobSecrets}. */
  public static final String SECRETS = "secrets";
  /** Ask where to upload one artifact file of step {@code index}. Body: {@link ArtifactFile}; answer {@link ArtifactUpload}. */
  public static final String ARTIFACT_UPLOAD = "artifacts/upload";
  /** An artifact file was uploaded: the report API checks it and lists it. Body: {@link ArtifactFile}. */
  public static final String ARTIFACT_COMPLETE = "artifacts/complete";
  /** An artifact file the agent would not upload, and why. Body: {@link ArtifactRefusal}. */
  public static final String ARTIFACT_REFUSED = "artifacts/refused";

  private ReportPaths() {}

  public static String job(String namespace, String name) {
    return "/v1/jobs/" + namespace + "/" + name;
  }

  /** Where a job's evaluation pod posts its result. */
  public static String evaluation(String namespace, String name) {
    return job(namespace, name) + "/" + EVALUATION;
  }

  /** Where the agent says why it stopped a job early. */
  public static String agentEnded(String namespace, String name) {
    return job(namespace, name) + "/" + AGENT_ENDED;
  }

  /** Where the agent fetches the job's secret values. */
  public static String secrets(String namespace, String name) {
    return job(namespace, name) + "/" + SECRETS;
  }

  public static String step(String namespace, String name, int index, String what) {
    return job(namespace, name) + "/steps/" + index + "/" + what;
  }
}
