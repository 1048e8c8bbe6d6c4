package dev.nixek.ci.e2e;

import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestNamespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test on the real kube-apiserver tier with the whole stack per test: the CRDs applied as a user would, a namespace
 * of its own, the operator with its production settings (server-side apply on) watching it and the report API as its
 * own process. Subclasses add options through {@link #stackEnv()}.
 */
@ExtendWith(KubeApiServerExtension.class)
abstract class RealApiServerStackTier {
  @TempDir
  Path work;
  KubeApiServer server;
  KubernetesClient client;
  String ns;
  Stack stack;

  @BeforeAll
  static void crds(KubeApiServer server) throws Exception {
    ManifestsIT.installCrds(server);
  }

  @BeforeEach
  void startStack(KubeApiServer server, TestNamespace namespace) throws Exception {
    this.server = server;
    this.client = server.client();
    this.ns = namespace.name();
    Map<String, String> env = new java.util.LinkedHashMap<>(stackEnv());
    env.put("NIXEK_WATCH_NAMESPACES", ns);
    stack = Stack.start(client, server.kubeconfig(), work, true, env);
  }

  @AfterEach
  void stopStack() throws Exception {
    if (stack != null) {
      stack.close();
    }
  }

  /** Options of the operator beyond the namespace it watches. */
  Map<String, String> stackEnv() {
    return Map.of();
  }
}
