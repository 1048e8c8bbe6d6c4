package dev.nixek.ci.e2e.ec2;

import dev.nixek.ci.e2e.ManifestsIT;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link Ec2EndToEndBase} on a real kube-apiserver (server-side apply on, as in production) with the stateful EC2
 * fake.
 */
class FakeEc2RealApiServerE2E extends Ec2EndToEndBase {
  @RegisterExtension
  static final KubeApiServerExtension KUBE = new KubeApiServerExtension();
  private static final String NAMESPACE = "ec2-e2e";
  private boolean prepared;

  @Override
  protected synchronized KubernetesClient client() {
    KubeApiServer server = KUBE.server();
    if (!prepared) {
      try {
        ManifestsIT.installCrds(server);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      server.createNamespace(NAMESPACE);
      prepared = true;
    }
    return server.client();
  }

  @Override
  protected Path kubeconfig(Path dir) {
    return KUBE.server().kubeconfig();
  }

  @Override
  protected boolean useSsa() {
    return true;
  }

  @Override
  protected String namespace() {
    return NAMESPACE;
  }

  @Override
  protected Map<String, String> clusterEnv() {
    return Map.of("NIXEK_WATCH_NAMESPACES", NAMESPACE);
  }

  @Override
  protected Ec2Side startEc2(Path dir) {
    return new FakeEc2Side(dir, namespace());
  }
}
