package dev.nixek.ci.demo;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import io.fabric8.kubernetes.api.model.Condition;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Prints a job's progress as it happens: step starts and results from the job's status, output from a
 * {@link StepOutput} (the logs endpoint, {@link StepLogs}) or, without one, from the status tails.
 */
final class JobFollower {
  /** Where step output comes from when it is not the status tails. */
  interface StepOutput {
    /** False once it cannot print output: the status tails are printed instead. */
    boolean live();

    /** Step {@code index} has started (called on every update while it runs). */
    void progress(NixekJob job, int index, String name);

    /** Step {@code index} ended: returns once all its output is printed, before its result line. */
    void ended(NixekJob job, int index, String name);
  }

  private final PrintStream out;
  private final StepOutput output;
  private final Map<String, NixekStepStatus.State> states = new HashMap<>();
  private final Map<String, Long> printedBytes = new HashMap<>();
  private String lastReason;
  private String lastMessage;
  private boolean evaluationShown;

  JobFollower(PrintStream out) {
    this(out, null);
  }

  JobFollower(PrintStream out, StepOutput output) {
    this.out = out;
    this.output = output;
  }

  /** Prints what changed since the last call. */
  void update(NixekJob job) {
    // the evaluated steps before what came of them (one status can hold both)
    printEvaluation(job);
    Optional<Condition> c = succeeded(job);
    String reason = c.map(Condition::getReason).orElse(null);
    String message = c.map(Condition::getMessage).orElse(null);
    // a new reason, or a new message while waiting (the evaluation starting, then its process; a launch
    // retried); while Running the message only counts steps, which the step lines below already show
    boolean news = reason != null && (!reason.equals(lastReason)
        || !ConditionReason.Running.name().equals(reason) && message != null && !message.equals(lastMessage));
    if (news) {
      out.printf("==> %s: %s%n", reason, message);
      lastReason = reason;
      lastMessage = message;
    }
    List<NixekStepStatus> steps = job.getStatus() == null ? null : job.getStatus().steps;
    if (steps == null) {
      return;
    }
    for (int i = 0; i < steps.size(); i++) {
      NixekStepStatus s = steps.get(i);
      NixekStepStatus.State before = states.put(s.name, s.state);
      boolean startedNow = (before == null || before == NixekStepStatus.State.Pending)
          && s.state != NixekStepStatus.State.Pending && s.state != NixekStepStatus.State.Skipped;
      if (startedNow) {
        out.printf("[%s] started%n", s.name);
      }
      boolean ran = s.state != NixekStepStatus.State.Pending && s.state != NixekStepStatus.State.Skipped;
      if (output != null && output.live() && ran) {
        if (before != s.state && s.state != NixekStepStatus.State.Running) {
          output.ended(job, i, s.name);
        } else {
          output.progress(job, i, s.name);
        }
      }
      if (output == null || !output.live()) {
        printOutput(s);
      }
      if (before != s.state) {
        switch (s.state) {
          case Succeeded -> out.printf("[%s] succeeded (exit code 0%s)%n", s.name, duration(s));
          case Failed -> out.printf("[%s] FAILED: %s%s%n", s.name,
              Boolean.TRUE.equals(s.timedOut) ? "timed out" : "exit code " + s.exitCode
                  + (Integer.valueOf(127).equals(s.exitCode) ? " (command not found on this host)" : ""),
              duration(s));
          case Skipped -> out.printf("[%s] skipped%n", s.name);
          default -> { }
        }
      }
    }
    out.flush();
  }

  /** A job written in Nix: once, the steps its evaluation gave, and what became of its machine. */
  private void printEvaluation(NixekJob job) {
    NixekJobEvaluation e = job.getStatus() == null ? null : job.getStatus().evaluation;
    if (evaluationShown || e == null || e.steps == null) {
      return;
    }
    evaluationShown = true;
    out.printf("==> evaluated to %d step%s; %s%n", e.steps.size(), e.steps.size() == 1 ? "" : "s",
        Boolean.TRUE.equals(e.machineSkipped) ? "its machine was not evaluated (provider local boots no machine)"
            : e.machine == null ? "no machine" : "machine " + e.machine.drvPath);
    for (NixekJobStep step : e.steps) {
      String shown = step.run != null ? step.run.strip() : String.join(" ", step.command);
      out.printf("    %-12s %s%n", step.name, shown.replace("\n", "\n" + " ".repeat(17)));
    }
  }

  private void printOutput(NixekStepStatus s) {
    long total = s.outputBytes == null ? 0 : s.outputBytes;
    long printed = printedBytes.getOrDefault(s.name, 0L);
    if (total <= printed || s.outputTail == null) {
      return;
    }
    byte[] tail = s.outputTail.getBytes(StandardCharsets.UTF_8);
    long fresh = total - printed;
    if (fresh > tail.length) {
      out.printf("[%s] ... (%d bytes not shown)%n", s.name, fresh - tail.length);
      fresh = tail.length;
    }
    String text = new String(tail, (int) (tail.length - fresh), (int) fresh, StandardCharsets.UTF_8);
    for (String line : text.split("\n", -1)) {
      if (!line.isEmpty()) {
        out.printf("[%s] | %s%n", s.name, line);
      }
    }
    printedBytes.put(s.name, total);
  }

  private static String duration(NixekStepStatus s) {
    if (s.startTime == null || s.finishTime == null) {
      return "";
    }
    Duration d = Duration.between(Instant.parse(s.startTime), Instant.parse(s.finishTime));
    return String.format(", %.1fs", d.toMillis() / 1000.0);
  }

  static Optional<Condition> succeeded(NixekJob job) {
    if (job.getStatus() == null || job.getStatus().conditions == null) {
      return Optional.empty();
    }
    return job.getStatus().conditions.stream().filter(c -> "Succeeded".equals(c.getType())).findFirst();
  }

  /** The job as {@code kubectl get nixekjobs} prints it. */
  static String table(NixekJob job, Instant now) {
    String status = succeeded(job).map(Condition::getReason).orElse("");
    String step = job.getStatus() == null || job.getStatus().currentStep == null ? "" : job.getStatus().currentStep;
    String instance = job.getStatus() == null || job.getStatus().instanceId == null ? "" : job.getStatus().instanceId;
    String age = "";
    if (job.getMetadata().getCreationTimestamp() != null) {
      long s = Duration.between(Instant.parse(job.getMetadata().getCreationTimestamp()), now).toSeconds();
      age = s < 120 ? s + "s" : (s / 60) + "m";
    }
    String name = job.getMetadata().getName();
    int w = Math.max(4, name.length()) + 3;
    String fmt = "%-" + w + "s%-6s%-18s%-7s%s%n";
    return String.format(fmt, "NAME", "AGE", "STATUS", "STEP", "INSTANCE") + String.format(fmt, name, age, status, step, instance);
  }
}
