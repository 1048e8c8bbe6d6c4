package dev.nixek.ci.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * One CI job: a machine and the steps to run on a fresh VM built from it.
 *
 * <p>The CRD generator orders printer columns by JSONPath, so Age (metadata) comes first and the status columns
 * read Status, Step, Instance.
 */
@Group(NixekJob.GROUP)
@Version(NixekJob.VERSION)
@ShortNames({"nj", "nixjob"})
@AdditionalPrinterColumn(name = "Status", jsonPath = ".status.conditions[?(@.type==\"Succeeded\")].reason",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Step", jsonPath = ".status.currentStep", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Instance", jsonPath = ".status.instanceId", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class NixekJob extends CustomResource<NixekJobSpec, NixekJobStatus> implements Namespaced {
  public static final String GROUP = "ci.nixek.dev";
  public static final String VERSION = "v1alpha1";
}
