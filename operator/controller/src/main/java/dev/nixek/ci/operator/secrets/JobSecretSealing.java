package dev.nixek.ci.operator.secrets;

import dev.nixek.ci.operator.config.JobSecretOptions;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import dev.nixek.ci.common.seal.SealKeyStore;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.common.secrets.SealedJobSecrets;
import dev.nixek.ci.common.secrets.SecretUses;
import dev.nixek.ci.common.status.ObjectBudget;
import dev.nixek.ci.operator.forge.CheckoutCredentials;
import dev.nixek.ci.protocol.CheckoutCredential;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * At launch, reads the Secrets a job uses from its namespace, checks that it may use each (docs/secrets.md#who-may-
 * use-a-secret), and seals their values for the report API ({@code status.sealedSecrets}). A refusal names the field
 * and the Secret, never a value; nothing is sealed then, and the job launches nothing.
 */
public final class JobSecretSealing {
  /** The label by which a namespace's owner lets jobs use a Secret. */
  public static final String OPT_IN_LABEL = "ci.nixek.dev/job-secret";

  /** What launching the job gets. */
  public sealed interface Outcome {
    /** The job uses no secret. */
    record None() implements Outcome {}

    /** The values, sealed for this attempt. */
    record Sealed(String sealed, int count) implements Outcome {}

    /** The job may not have what it names. */
    record Refused(String message) implements Outcome {}
  }

  private final KubernetesClient client;
  private final JobSecretOptions options;
  private final RepositorySecretPolicy repositories;
  private final Supplier<Sealer> sealer;
  private final CheckoutCredentials checkout;

  public JobSecretSealing(KubernetesClient client, String operatorNamespace, JobSecretOptions options,
      RepositorySecretPolicy repositories) {
    this(client, SealKeyStore.lazySealer(client, operatorNamespace, options.sealKeySecret()), options, repositories,
        CheckoutCredentials.none());
  }

  /**
   * With the checkout token of jobs that check out their repository (docs/repositories.md#source-checkout).
   *
   * @param sealer the operator's sealer ({@link SealKeyStore#lazySealer}): loaded at the first job that uses a secret
   */
  public JobSecretSealing(KubernetesClient client, Supplier<Sealer> sealer, JobSecretOptions options,
      RepositorySecretPolicy repositories, CheckoutCredentials checkout) {
    this.checkout = checkout;
    this.client = client;
    this.options = options;
    this.repositories = repositories;
    this.sealer = sealer;
  }

  /** Reads, checks and seals what {@code job} uses for launch {@code attempt}; API failures propagate (retried). */
  public Outcome seal(NixekJob job, int attempt) {
    Map<NixekSecretKeyRef, String> refs = SecretUses.refs(job);
    Optional<byte[]> checkoutToken = checkout.tokenFor(job);
    if (refs.isEmpty() && checkoutToken.isEmpty()) {
      return new Outcome.None();
    }
    String ns = job.getMetadata().getNamespace();
    Optional<RepositorySecretPolicy.Allowed> allowed = repositories.allowed(job);
    Map<String, Secret> read = new LinkedHashMap<>();
    Map<String, byte[]> values = new LinkedHashMap<>();
    long total = 0;
    for (Map.Entry<NixekSecretKeyRef, String> e : refs.entrySet()) {
      NixekSecretKeyRef ref = e.getKey();
      String field = e.getValue();
      if (allowed.isPresent() && !allowed.get().secrets().contains(ref.name)) {
        return refused(field, ref, "may not be used by this job: " + allowed.get().why());
      }
      Secret secret = read.computeIfAbsent(ref.name, n -> client.secrets().inNamespace(ns).withName(n).get());
      if (secret == null) {
        return refused(field, ref, "does not exist in namespace " + ns);
      }
      Map<String, String> labels = secret.getMetadata().getLabels();
      if (labels == null || !"true".equals(labels.get(OPT_IN_LABEL))) {
        return refused(field, ref, "is not labelled " + OPT_IN_LABEL + ": \"true\" (its namespace's owner has not "
            + "let jobs use it)");
      }
      String encoded = secret.getData() == null ? null : secret.getData().get(ref.key);
      if (encoded == null) {
        return refused(field, ref, "has no key " + ref.key);
      }
      byte[] value = Base64.getDecoder().decode(encoded);
      total += value.length;
      if (total > options.maxBytes()) {
        return new Outcome.Refused(field + ": the job's secret values come to more than "
            + JobSecretOptions.MAX_BYTES.key() + " (" + options.maxBytes() + " bytes)");
      }
      values.put(ref.ref(), value);
    }
    // under a ref no Secret can have, served to the agent's checkout step like any secret value
    checkoutToken.ifPresent(t -> values.put(CheckoutCredential.SECRET_REF, t));
    String context = SealedJobSecrets.context(ns, job.getMetadata().getName(), job.getMetadata().getUid(), attempt);
    String sealed = SealedJobSecrets.seal(sealer.get(), values, context);
    // the values' names, their base64 and a checkout token are sealed too: many short values under long names would
    // take more of the job's status than its budget has for them (docs/architecture.md#status-budget)
    if (sealed.length() > ObjectBudget.SEALED_SECRETS_MAX_BYTES) {
      return new Outcome.Refused("spec.secrets: the job's secrets, sealed with their names, come to "
          + sealed.length() + " bytes, more than the " + ObjectBudget.SEALED_SECRETS_MAX_BYTES + " its status has "
          + "room for: use fewer values (a file can hold several)");
    }
    return new Outcome.Sealed(sealed, values.size());
  }

  private static Outcome refused(String field, NixekSecretKeyRef ref, String why) {
    return new Outcome.Refused(field + ": Secret " + ref.name + " (key " + ref.key + ") " + why);
  }
}
