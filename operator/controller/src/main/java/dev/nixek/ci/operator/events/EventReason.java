package dev.nixek.ci.operator.events;

/** The reasons of the Events the operator records; the enum is the whole vocabulary. */
public enum EventReason {
  InvalidSpec(Type.Warning),
  EvaluationStarted(Type.Normal),
  /** The evaluation pod cannot be created or stays pending; once per distinct cause. */
  EvaluationPending(Type.Warning),
  Evaluated(Type.Normal),
  EvaluationFailed(Type.Warning),
  BuildStarted(Type.Normal),
  /** The builder pod cannot be created or stays pending; once per distinct cause. */
  BuildPending(Type.Warning),
  BuildFailed(Type.Warning),
  /** What a build pushed was signed and published to its trust domain's binary cache. */
  CachePublished(Type.Normal),
  /** What a build pushed was not published (the image is not affected); the message says why. */
  CachePublishFailed(Type.Warning),
  ImportStarted(Type.Normal),
  ImportFailed(Type.Warning),
  ImageReady(Type.Normal),
  Launched(Type.Normal),
  LaunchFailed(Type.Warning),
  StepFailed(Type.Warning),
  Succeeded(Type.Normal),
  Failed(Type.Warning),
  Cancelled(Type.Normal),
  TimedOut(Type.Warning),
  InstanceLost(Type.Warning),
  AgentNeverReported(Type.Warning),
  SpotUnavailable(Type.Normal),
  Relaunching(Type.Warning),
  MachineTerminated(Type.Normal),
  /** The job names a Secret it may not use; nothing was launched (docs/secrets.md). */
  SecretNotAllowed(Type.Warning),
  // NixekRepository
  /** A head commit's jobs were created. */
  CommitJobsCreated(Type.Normal),
  /** A head commit gets no jobs: its flake lacks the attribute, it is not a set of jobs, too many, or no evaluation. */
  CommitSkipped(Type.Warning),
  /** git ls-remote or the forge API failed. */
  RepositoryUnreachable(Type.Warning),
  /** The token or webhook Secret is missing or empty. */
  SecretInvalid(Type.Warning),
  /** An older commit's unfinished jobs were cancelled: its branch or pull request moved on. */
  JobsSuperseded(Type.Normal),
  /** Jobs of commits past spec.keepCommits were deleted. */
  JobsPruned(Type.Normal);

  /** Kubernetes Event types. */
  public enum Type { Normal, Warning }

  private final Type type;

  EventReason(Type type) {
    this.type = type;
  }

  public Type type() {
    return type;
  }
}
