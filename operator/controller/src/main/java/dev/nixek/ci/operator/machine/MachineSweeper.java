package dev.nixek.ci.operator.machine;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.status.Conditions;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Terminates machines that no live job owns: the job is gone, or it ended. Lists machines first, then jobs, so a
 * machine launched between the two lists is seen with its job (DESIGN §6).
 */
public final class MachineSweeper {
  private static final Logger LOG = LoggerFactory.getLogger(MachineSweeper.class);

  private final KubernetesClient client;
  private final MachineProvider provider;

  public MachineSweeper(KubernetesClient client, MachineProvider provider) {
    this.client = client;
    this.provider = provider;
  }

  /** Sweeps once; returns how many machines it terminated. */
  public int sweep() {
    var machines = provider.list().stream().filter(m -> !m.state().isGone()).toList();
    if (machines.isEmpty()) {
      return 0;
    }
    Map<String, NixekJob> jobsByUid = client.resources(NixekJob.class).inAnyNamespace().list().getItems().stream()
        .collect(Collectors.toMap(j -> j.getMetadata().getUid(), Function.identity()));
    int terminated = 0;
    for (Machine m : machines) {
      NixekJob job = m.jobUid() == null ? null : jobsByUid.get(m.jobUid());
      String why = job == null ? "its job is gone"
          : Conditions.isTerminal(job.getStatus()) ? "its job has ended" : null;
      if (why != null) {
        LOG.info("terminating machine {}: {}", m.id(), why);
        provider.terminate(m.id());
        terminated++;
      }
    }
    return terminated;
  }
}
