package dev.nixek.ci.common.job;

import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.TextRules;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What makes a list of steps runnable: the CRD schema's rules for {@code NixekJobStep} (which the API server also
 * applies to {@code status.evaluation.steps}; names: {@link StepNames}), unique names, and what the agent refuses. One definition for the
 * operator's validation of {@code spec.steps} and the report API's validation of an evaluation's steps, so that a
 * job's steps mean the same whether they were written in YAML or in Nix.
 */
public final class StepRules {
  /** The first problem found: which field, and what is wrong with it. */
  public record Problem(String field, String problem) {
    public String message() {
      return field + ": " + problem;
    }
  }

  public static final int MAX_STEPS = 1000;
  public static final int MAX_RUN_CHARS = 65536;
  public static final int MAX_ARGS = 1024;
  public static final long MAX_TIMEOUT_SECONDS = 604800;

  private StepRules() {}

  /** The first problem of {@code steps}, fields named under {@code at} (e.g. {@code spec.steps}). */
  public static Optional<Problem> validate(List<NixekJobStep> steps, String at) {
    if (steps == null || steps.isEmpty()) {
      return err(at, "at least one step is required");
    }
    if (steps.size() > MAX_STEPS) {
      return err(at, "at most " + MAX_STEPS + " steps, not " + steps.size());
    }
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < steps.size(); i++) {
      NixekJobStep s = steps.get(i);
      String here = at + "[" + i + "]";
      if (s == null) {
        return err(here, "is empty");
      }
      if (s.name == null || s.name.isEmpty()) {
        return err(here + ".name", "is required");
      }
      Optional<String> badName = StepNames.problem(s.name);
      if (badName.isPresent()) {
        return err(here + ".name", StepNames.quote(s.name) + " is not a step name: " + badName.get());
      }
      Integer first = seen.putIfAbsent(s.name, i);
      if (first != null) {
        return err(here + ".name", "duplicate step name " + StepNames.quote(s.name) + " (also " + at + "[" + first
            + "])");
      }
      boolean hasRun = s.run != null;
      boolean hasCommand = s.command != null;
      if (hasRun && hasCommand) {
        return err(here, "step " + StepNames.quote(s.name) + " has both run and command; set exactly one");
      }
      if (!hasRun && !hasCommand) {
        return err(here, "step " + StepNames.quote(s.name) + " has neither run nor command; set exactly one");
      }
      if (hasRun && s.run.isBlank()) {
        return err(here + ".run", "is empty");
      }
      if (hasRun && s.run.length() > MAX_RUN_CHARS) {
        return err(here + ".run", "is longer than " + MAX_RUN_CHARS + " characters");
      }
      if (hasRun && TextRules.firstUnprintable(s.run) >= 0) {
        return err(here + ".run", unprintable(s.run));
      }
      if (hasCommand && (s.command.isEmpty() || s.command.get(0) == null || s.command.get(0).isEmpty())) {
        return err(here + ".command", "needs at least a program");
      }
      if (hasCommand && s.command.size() > MAX_ARGS) {
        return err(here + ".command", "has more than " + MAX_ARGS + " arguments");
      }
      if (hasCommand) {
        for (int k = 0; k < s.command.size(); k++) {
          if (s.command.get(k) == null || s.command.get(k).indexOf('\0') >= 0) {
            return err(here + ".command[" + k + "]", "must be a string without NUL characters");
          }
          if (TextRules.firstUnprintable(s.command.get(k)) >= 0) {
            return err(here + ".command[" + k + "]", unprintable(s.command.get(k)));
          }
        }
      }
      if (s.env != null) {
        for (Map.Entry<String, String> e : s.env.entrySet()) {
          if (e.getKey() == null || e.getKey().isEmpty() || e.getKey().indexOf('=') >= 0
              || e.getKey().indexOf('\0') >= 0) {
            return err(here + ".env", "has an invalid variable name " + StepNames.quote(String.valueOf(e.getKey())));
          }
          if (e.getValue() == null || e.getValue().indexOf('\0') >= 0) {
            return err(here + ".env." + e.getKey(), "must be a string without NUL characters");
          }
          if (TextRules.firstUnprintable(e.getValue()) >= 0) {
            return err(here + ".env." + e.getKey(), unprintable(e.getValue()));
          }
        }
      }
      if (s.timeoutSeconds != null && s.timeoutSeconds < 1) {
        return err(here + ".timeoutSeconds", "must be at least 1");
      }
      if (s.timeoutSeconds != null && s.timeoutSeconds > MAX_TIMEOUT_SECONDS) {
        return err(here + ".timeoutSeconds", "must be at most " + MAX_TIMEOUT_SECONDS);
      }
      Optional<Problem> secrets = dev.nixek.ci.common.secrets.SecretUses.validate(s.secrets, here + ".secrets");
      if (secrets.isPresent()) {
        return secrets;
      }
      Optional<String> artifacts = StepArtifacts.problem(s.artifacts);
      if (artifacts.isPresent()) {
        return err(here + ".artifacts", artifacts.get());
      }
    }
    return Optional.empty();
  }

  /** Why {@code text} cannot be stored: names the character and where it is, never quotes the text. */
  private static String unprintable(String text) {
    int at = TextRules.firstUnprintable(text);
    return String.format("has the control character U+%04X at character %d: only tab, line feed, carriage return and "
        + "printable characters are allowed (kubectl cannot print an object with others as YAML)", (int) text.charAt(at),
        at);
  }

  private static Optional<Problem> err(String field, String problem) {
    return Optional.of(new Problem(field, problem));
  }
}
