package dev.nixek.ci.operator.testing;

import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/** Builders for jobs in tests. */
public final class TestJobs {
  private TestJobs() {}

  public static NixekJobStep run(String name, String script) {
    NixekJobStep s = new NixekJobStep();
    s.name = name;
    s.run = script;
    return s;
  }

  public static NixekJobStep command(String name, String... argv) {
    NixekJobStep s = new NixekJobStep();
    s.name = name;
    s.command = List.of(argv);
    return s;
  }

  public static NixekJob job(String namespace, String name, NixekJobStep... steps) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    NixekJobSpec spec = new NixekJobSpec();
    spec.machine = "{ pkgs, ... }: { }";
    spec.steps = new ArrayList<>(List.of(steps));
    job.setSpec(spec);
    return job;
  }

  /**
   * Sets {@code spec.cancel} as {@code kubectl patch --type merge} does: without a resourceVersion, so that it cannot
   * lose a race with the operator's or the report API's status writes (a read-modify-write edit can, and then fails
   * with 409).
   */
  public static void cancel(KubernetesClient client, String namespace, String name) {
    client.resources(NixekJob.class).inNamespace(namespace).withName(name)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"cancel\":true}}");
  }

  /** Deletes every job, finalizers and all (between tests, with no operator running). */
  public static void deleteAll(KubernetesClient client) {
    for (NixekJob j : client.resources(NixekJob.class).inAnyNamespace().list().getItems()) {
      var r = client.resources(NixekJob.class).inNamespace(j.getMetadata().getNamespace())
          .withName(j.getMetadata().getName());
      if (j.getMetadata().getFinalizers() != null && !j.getMetadata().getFinalizers().isEmpty()) {
        r.edit(x -> {
          x.getMetadata().setFinalizers(null);
          return x;
        });
      }
      r.delete();
    }
  }

  /** Creates the generated CRDs (from the crds module's jar) in a cluster or mock. */
  public static void createCrds(KubernetesClient client) {
    for (String name : List.of("nixekjobs", "nixekmachineimages", "nixekrepositories")) {
      try (InputStream in = TestJobs.class.getResourceAsStream("/META-INF/fabric8/" + name + ".ci.nixek.dev-v1.yml")) {
        CustomResourceDefinition crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
        client.apiextensions().v1().customResourceDefinitions().resource(crd).createOr(op -> op.update());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }
}
