package dev.nixek.ci.api.v1alpha1;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Every reason the operator writes into a condition of a nixek-ci object: the one vocabulary of the operator, the CRD
 * descriptions ({@link #JOB_SUCCEEDED} and {@link #IMAGE_READY}, checked against this enum by a test) and the docs
 * (docs/architecture.md lists them, checked too). A reason says which condition it belongs to and the condition
 * status it comes with.
 */
public enum ConditionReason {
  // NixekJob, condition Succeeded
  /** The job's Nix expression or flake job is being evaluated in its evaluation pod. */
  Evaluating(Kind.JOB, Status.UNKNOWN),
  /**
   * The evaluation cannot start: its pod (or what it mounts) could not be created, or Kubernetes keeps it pending
   * (unschedulable, its image cannot be pulled). The message says why; the job keeps trying as long as it lives.
   */
  EvaluationPending(Kind.JOB, Status.UNKNOWN),
  /** The job waits for its machine image to become Ready. */
  WaitingForImage(Kind.JOB, Status.UNKNOWN),
  /**
   * The job is ready to launch but its namespace already runs as many jobs as its limit allows; the message gives its
   * position ("position 3 of 5 in namespace x"). Jobs start in creation order as others end.
   */
  Queued(Kind.JOB, Status.UNKNOWN),
  /** The launch token is recorded and the machine is being launched (or the launch is retried). */
  Launching(Kind.JOB, Status.UNKNOWN),
  /** The machine is launched; the agent runs the steps. */
  Running(Kind.JOB, Status.UNKNOWN),
  /** Every step succeeded. */
  Succeeded(Kind.JOB, Status.TRUE),
  /** A step exited non-zero or timed out; later steps are Skipped. */
  StepFailed(Kind.JOB, Status.FALSE),
  /** The job ran longer than spec.timeoutSeconds (or the operator's default). */
  TimedOut(Kind.JOB, Status.FALSE),
  /** The agent sent no report within the boot timeout of the launch. */
  AgentNeverReported(Kind.JOB, Status.FALSE),
  /** spec.cancel was set. */
  Cancelled(Kind.JOB, Status.FALSE),
  /** The provider refused the launch for good, or no launch attempts were left. */
  LaunchFailed(Kind.JOB, Status.FALSE),
  /** The machine went away before the job finished. */
  InstanceLost(Kind.JOB, Status.FALSE),
  /** The job's machine image failed or cannot be made by this operator. */
  ImageFailed(Kind.JOB, Status.FALSE),
  /** Evaluating the job's Nix failed; the message carries nix's error. */
  EvaluationFailed(Kind.JOB, Status.FALSE),
  /** The evaluated job names no machine and the provider needs an image. */
  NoMachine(Kind.JOB, Status.FALSE),
  /**
   * The job names a Secret it may not use (not labelled ci.nixek.dev/job-secret, missing key, not listed by its
   * repository) or that does not exist; nothing was launched. The message names the field, never a value.
   */
  SecretNotAllowed(Kind.JOB, Status.FALSE),
  // every kind
  /** The spec is invalid; nothing was launched, built or made. The message names the field. */
  InvalidSpec(Kind.BOTH, Status.FALSE),
  // NixekMachineImage, condition Ready
  /** The builder pod runs nix build. */
  Building(Kind.IMAGE, Status.UNKNOWN),
  /** The builder uploads the disk image to S3. */
  Uploading(Kind.IMAGE, Status.UNKNOWN),
  /** EC2 imports the uploaded disk image as a snapshot. */
  Importing(Kind.IMAGE, Status.UNKNOWN),
  /** The snapshot is registered as an AMI. */
  Registering(Kind.IMAGE, Status.UNKNOWN),
  /** The AMI is registered and recorded in status.imageId. */
  Ready(Kind.IMAGE, Status.TRUE),
  /** The build failed (final for this generation of the spec). */
  BuildFailed(Kind.IMAGE, Status.FALSE),
  /** The snapshot import failed (final for this generation of the spec). */
  ImportFailed(Kind.IMAGE, Status.FALSE),
  // NixekRepository, condition Ready
  /** The heads are being listed for the first time since the spec changed. */
  Polling(Kind.REPOSITORY, Status.UNKNOWN),
  /** A new head commit's job names are being evaluated in an evaluation pod. */
  EvaluatingCommits(Kind.REPOSITORY, Status.UNKNOWN),
  /** Every built head's jobs exist; the heads are listed again every spec.pollInterval and on a webhook. */
  Synced(Kind.REPOSITORY, Status.TRUE),
  /** git ls-remote failed (network, DNS, authentication, no such repository); retried every spec.pollInterval. */
  RepositoryUnreachable(Kind.REPOSITORY, Status.FALSE),
  /** spec.tokenSecretRef or spec.webhookSecretRef names a Secret or key that does not exist or is empty. */
  SecretInvalid(Kind.REPOSITORY, Status.FALSE),
  /** A head commit's flake has no spec.attribute; that head gets no jobs until it moves on. */
  AttributeMissing(Kind.REPOSITORY, Status.FALSE),
  /** A head commit's spec.attribute is not an attribute set of jobs. */
  NotAJobSet(Kind.REPOSITORY, Status.FALSE),
  /** A head commit has more jobs than the operator's limit (NIXEK_REPOSITORY_MAX_JOBS_PER_COMMIT); none were made. */
  TooManyJobs(Kind.REPOSITORY, Status.FALSE),
  /** Evaluating a head commit's job names failed otherwise (the flake does not evaluate); the message carries why. */
  CommitEvaluationFailed(Kind.REPOSITORY, Status.FALSE);

  /** The CRD description of a job's conditions; {@code ConditionReasonTest} keeps it equal to the enum. */
  public static final String JOB_SUCCEEDED = "Conditions. Succeeded: Unknown while Evaluating, EvaluationPending, "
      + "WaitingForImage, Queued, Launching or Running; True (Succeeded) when every step succeeded; False with "
      + "StepFailed, TimedOut, AgentNeverReported, Cancelled, LaunchFailed, InstanceLost, ImageFailed, "
      + "EvaluationFailed, NoMachine, SecretNotAllowed or InvalidSpec.";
  /** The CRD description of an image's conditions; {@code ConditionReasonTest} keeps it equal to the enum. */
  public static final String IMAGE_READY = "Conditions. Ready: Unknown while Building, Uploading, Importing or "
      + "Registering; True (Ready) once the image is registered; False with InvalidSpec, BuildFailed or ImportFailed.";

  /** The CRD description of a repository's conditions; {@code ConditionReasonTest} keeps it equal to the enum. */
  public static final String REPOSITORY_READY = "Conditions. Ready: Unknown while Polling or EvaluatingCommits; True "
      + "(Synced) once every built head's jobs exist; False with InvalidSpec, RepositoryUnreachable, SecretInvalid, "
      + "AttributeMissing, NotAJobSet, TooManyJobs or CommitEvaluationFailed.";

  /** Which kind's condition a reason belongs to; BOTH is every kind (its name is older than repositories). */
  public enum Kind { JOB, IMAGE, REPOSITORY, BOTH }

  /** A condition status, as Kubernetes spells it. */
  public enum Status {
    TRUE("True"), FALSE("False"), UNKNOWN("Unknown");

    private final String value;

    Status(String value) {
      this.value = value;
    }

    /** The condition status as written ({@code True}, {@code False}, {@code Unknown}). */
    public String value() {
      return value;
    }
  }

  private final Kind kind;
  private final Status status;

  ConditionReason(Kind kind, Status status) {
    this.kind = kind;
    this.status = status;
  }

  public Kind kind() {
    return kind;
  }

  /** The condition status this reason comes with. */
  public Status status() {
    return status;
  }

  /** Whether this reason may appear on a condition of {@code k}. */
  public boolean appliesTo(Kind k) {
    return kind == k || kind == Kind.BOTH;
  }

  /** The reasons of {@code k} with {@code s}, in declaration order. */
  public static List<ConditionReason> of(Kind k, Status s) {
    return Arrays.stream(values()).filter(r -> r.appliesTo(k) && r.status == s).collect(Collectors.toList());
  }

  /** The reason named {@code name}, if there is one. */
  public static Optional<ConditionReason> parse(String name) {
    return Arrays.stream(values()).filter(r -> r.name().equals(name)).findFirst();
  }

  /** Joins names as the descriptions do: "a, b or c". */
  static String spoken(List<ConditionReason> reasons) {
    List<String> names = reasons.stream().map(Enum::name).collect(Collectors.toList());
    if (names.size() == 1) {
      return names.get(0);
    }
    return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
  }
}
