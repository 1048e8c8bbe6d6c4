package dev.nixek.ci.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A forge repository whose branches and pull requests nixek-ci builds: each new commit's flake jobs become
 * {@link NixekJob}s owned by it (docs/repositories.md).
 */
@Group(NixekJob.GROUP)
@Version(NixekJob.VERSION)
@ShortNames({"nrepo", "nixrepo"})
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "URL", jsonPath = ".spec.url", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Polled", jsonPath = ".status.lastPollTime", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class NixekRepository extends CustomResource<NixekRepositorySpec, NixekRepositoryStatus>
    implements Namespaced {}
