package dev.nixek.ci.e2e.ec2;

import dev.nixek.ci.testing.aws.moto.MotoServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link Ec2EndToEndBase} against moto, a third-party EC2 emulator, for the calls moto implements (RunInstances,
 * DescribeInstances by id and by tag, DescribeInstanceAttribute, TerminateInstances). moto ignores ClientToken, so
 * crash-point tests run against the fake only (Ec2CrashPointsIT). Skipped without moto, except under {@code CI=true}.
 */
@EnableKubernetesMockClient(crud = true, https = true)
class MotoMockApiServerE2E extends Ec2EndToEndBase {
  static KubernetesClient client;
  static KubernetesMockServer server;

  @BeforeAll
  static void needsMoto() {
    if (!"true".equals(System.getenv("CI"))) {
      Assumptions.assumeTrue(MotoServer.isAvailable(), "moto is not installed (pip install 'moto[server]')");
    }
  }

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
    return new MotoSide(dir, namespace());
  }
}
