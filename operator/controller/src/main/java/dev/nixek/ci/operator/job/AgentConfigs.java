package dev.nixek.ci.operator.job;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekSecretUse;
import dev.nixek.ci.common.job.CheckoutStep;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.secrets.SecretUses;
import dev.nixek.ci.protocol.StepSecret;
import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.AgentSource;
import dev.nixek.ci.protocol.AgentStep;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds the agent's config (user-data on EC2, a file locally) from a job. */
public final class AgentConfigs {
  private AgentConfigs() {}

  public static AgentConfig forJob(NixekJob job, URI reportUrl, String token, boolean poweroff) {
    // the steps the job runs: spec.steps, or those its Nix expression evaluated to
    List<AgentStep> steps = EffectiveSteps.orEmpty(job).stream()
        .map(s -> toAgentStep(job.getSpec().env, job.getSpec().secrets, s)).toList();
    String url = reportUrl.toString();
    if (url.endsWith("/")) {
      url = url.substring(0, url.length() - 1);
    }
    return new AgentConfig(AgentConfig.VERSION, job.getMetadata().getUid(), job.getMetadata().getNamespace(),
        job.getMetadata().getName(), url, token, steps, poweroff);
  }

  private static AgentStep toAgentStep(Map<String, String> jobEnv, List<NixekSecretUse> jobSecrets, NixekJobStep s) {
    if (s instanceof CheckoutStep checkout) {
      // the agent's own git, not a program of the job's: no env, no job secrets, and the job's timeout bounds it
      return AgentStep.checkout(s.name, new AgentSource(checkout.source().url, checkout.source().rev,
          checkout.source().submodules), null);
    }
    Map<String, String> env = new LinkedHashMap<>();
    if (jobEnv != null) {
      env.putAll(jobEnv);
    }
    if (s.env != null) {
      env.putAll(s.env);
    }
    // the names and refs only: the agent fetches the values while the job runs (docs/secrets.md)
    List<StepSecret> secrets = SecretUses.forStep(jobSecrets, s).stream()
        .map(u -> new StepSecret(u.name, u.secretRef.ref(), u.asOrDefault())).toList();
    return new AgentStep(s.name, s.run, s.command, env.isEmpty() ? null : env, s.timeoutSeconds,
        secrets.isEmpty() ? null : secrets, dev.nixek.ci.common.job.StepArtifacts.toSpecs(s.artifacts));
  }
}
