package dev.nixek.ci.e2e.ec2;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Path;

/** {@link Ec2EndToEndBase} on the fabric8 mock API server with the stateful EC2 fake. */
@EnableKubernetesMockClient(crud = true, https = true)
class FakeEc2MockApiServerE2E extends Ec2EndToEndBase {
  static KubernetesClient client;
  static KubernetesMockServer server;

  @Override
  protected KubernetesClient client() {
    return client;
  }

  @Override
  protected Path kubeconfig(Path dir) throws Exception {
    return mockKubeconfig(client, dir);
  }

  @Override
  protected boolean useSsa() {
    return false;
  }

  @Override
  protected Ec2Side startEc2(Path dir) {
    return new FakeEc2Side(dir, namespace());
  }
}
