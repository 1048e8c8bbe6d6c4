package dev.nixek.ci.common.secrets;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import dev.nixek.ci.api.v1alpha1.NixekSecretUse;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.job.StepRules.Problem;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which secret values a job's steps get (docs/secrets.md): {@code spec.secrets} for every step, a step's own
 * {@code secrets} on top (a name there wins). The operator (what to seal, the agent's config) and the report API
 * (evaluated steps) ask here, so the two never disagree.
 */
public final class SecretUses {
  /** Most entries in one list (the CRD's maxItems). */
  public static final int MAX_PER_LIST = 64;
  private static final Pattern NAME = Pattern.compile(NixekSecretUse.NAME_PATTERN);
  private static final Pattern SECRET = Pattern.compile(NixekSecretKeyRef.SECRET_NAME_PATTERN);
  private static final Pattern KEY = Pattern.compile(NixekSecretKeyRef.KEY_PATTERN);

  private SecretUses() {}

  /** The uses of {@code step}: the job's, then the step's own replacing any of the same name. */
  public static List<NixekSecretUse> forStep(List<NixekSecretUse> jobWide, NixekJobStep step) {
    Map<String, NixekSecretUse> byName = new LinkedHashMap<>();
    if (jobWide != null) {
      jobWide.forEach(u -> byName.put(u.name, u));
    }
    if (step != null && step.secrets != null) {
      step.secrets.forEach(u -> byName.put(u.name, u));
    }
    return new ArrayList<>(byName.values());
  }

  /** Every Secret entry the job uses, in first-use order, each with the field that first names it. */
  public static Map<NixekSecretKeyRef, String> refs(NixekJob job) {
    Map<String, NixekSecretKeyRef> seen = new LinkedHashMap<>();
    Map<NixekSecretKeyRef, String> out = new LinkedHashMap<>();
    List<NixekSecretUse> jobWide = job.getSpec() == null ? null : job.getSpec().secrets;
    add(out, seen, jobWide, "spec.secrets");
    List<NixekJobStep> steps = EffectiveSteps.orEmpty(job);
    boolean evaluated = job.getSpec() != null && job.getSpec().steps == null;
    String at = evaluated ? "status.evaluation.steps" : "spec.steps";
    for (int i = 0; i < steps.size(); i++) {
      add(out, seen, steps.get(i) == null ? null : steps.get(i).secrets, at + "[" + i + "].secrets");
    }
    return out;
  }

  /** The names of the Secrets the job uses. */
  public static Set<String> secretNames(NixekJob job) {
    Set<String> names = new LinkedHashSet<>();
    refs(job).keySet().forEach(r -> names.add(r.name));
    return names;
  }

  private static void add(Map<NixekSecretKeyRef, String> out, Map<String, NixekSecretKeyRef> seen,
      List<NixekSecretUse> uses, String at) {
    if (uses == null) {
      return;
    }
    for (int i = 0; i < uses.size(); i++) {
      NixekSecretUse u = uses.get(i);
      if (u == null || u.secretRef == null) {
        continue;
      }
      String ref = u.secretRef.ref();
      if (!seen.containsKey(ref)) {
        // one instance per ref, so that equal refs from two fields count once
        NixekSecretKeyRef r = new NixekSecretKeyRef(u.secretRef.name, u.secretRef.key);
        seen.put(ref, r);
        out.put(r, at + "[" + i + "].secretRef");
      }
    }
  }

  /**
   * The first problem of one list of uses, named under {@code at}: what the CRD schema checks of explicit jobs (and the
   * API server of evaluated steps), plus unique names, which the schema cannot say.
   */
  public static Optional<Problem> validate(List<NixekSecretUse> uses, String at) {
    if (uses == null) {
      return Optional.empty();
    }
    if (uses.size() > MAX_PER_LIST) {
      return err(at, "at most " + MAX_PER_LIST + " entries, not " + uses.size());
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < uses.size(); i++) {
      NixekSecretUse u = uses.get(i);
      String here = at + "[" + i + "]";
      if (u == null) {
        return err(here, "is empty");
      }
      if (u.name == null || u.name.length() > NixekSecretUse.NAME_MAX || !NAME.matcher(u.name).matches()) {
        return err(here + ".name", "must be an environment variable name (letters, digits, '_'; not starting with a "
            + "digit; at most " + NixekSecretUse.NAME_MAX + " characters)");
      }
      if (!names.add(u.name)) {
        return err(here + ".name", "duplicate name " + u.name);
      }
      if (u.secretRef == null) {
        return err(here + ".secretRef", "is required");
      }
      if (u.secretRef.name == null || u.secretRef.name.length() > 253 || !SECRET.matcher(u.secretRef.name).matches()) {
        return err(here + ".secretRef.name", "must be a Secret name (lower-case letters, digits, '-', '.')");
      }
      if (u.secretRef.key == null || u.secretRef.key.length() > 253 || !KEY.matcher(u.secretRef.key).matches()) {
        return err(here + ".secretRef.key", "must be a Secret key (letters, digits, '-', '_', '.')");
      }
      if (u.as != null && !u.as.equals(NixekSecretUse.AS_ENV) && !u.as.equals(NixekSecretUse.AS_FILE)) {
        return err(here + ".as", "must be env or file");
      }
    }
    return Optional.empty();
  }

  private static Optional<Problem> err(String field, String problem) {
    return Optional.of(new Problem(field, problem));
  }
}
