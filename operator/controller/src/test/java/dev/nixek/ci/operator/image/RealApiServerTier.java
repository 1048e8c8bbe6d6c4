package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestKubelet;
import dev.nixek.ci.testing.kube.TestNamespace;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real-apiserver tier of the image tests: kube-apiserver + etcd with the generated CRDs, a fresh namespace per
 * test, a test kubelet running builder pods there, s3proxy and the EC2 fake ({@link ImageTestEnv}), and an operator
 * for the namespace — built, not started: a test (or a subclass's {@code @BeforeEach}) starts it, with crash points
 * if it wants.
 */
@ExtendWith(KubeApiServerExtension.class)
abstract class RealApiServerTier {
  @TempDir
  Path work;
  KubeApiServer server;
  KubernetesClient client;
  String ns;
  ImageTestEnv env;
  TestKubelet kubelet;
  ImageOperator operator;

  @BeforeAll
  static void crds(KubeApiServer server) throws Exception {
    try (Stream<Path> crds = Files.list(ImageTestEnv.HOME.resolve("charts/nixek-ci/crds"))) {
      server.applyServerSide(crds.sorted().toArray(Path[]::new));
    }
    for (String crd : List.of("nixekjobs.ci.nixek.dev", "nixekmachineimages.ci.nixek.dev",
        "nixekrepositories.ci.nixek.dev")) {
      server.kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/" + crd).orThrow();
    }
  }

  @BeforeEach
  void startEnvironment(KubeApiServer server, TestNamespace namespace) throws Exception {
    this.server = server;
    client = server.client();
    ns = namespace.name();
    env = ImageTestEnv.start(work);
    kubelet = env.kubelet(client, ns);
    operator = new ImageOperator(client, env, ns, Map.of(), null);
  }

  @AfterEach
  void stopEnvironment() throws Exception {
    // each is null when the environment could not start (a tool missing): the start's own failure is the report
    if (operator != null) {
      operator.close();
    }
    if (kubelet != null) {
      kubelet.close();
    }
    if (env != null) {
      env.close();
    }
  }

  void create(NixekMachineImage image) {
    client.resources(NixekMachineImage.class).inNamespace(ns).resource(image).create();
  }

  void delete(String name) {
    client.resources(NixekMachineImage.class).inNamespace(ns).withName(name).delete();
  }

  NixekMachineImage get(String name) {
    return client.resources(NixekMachineImage.class).inNamespace(ns).withName(name).get();
  }

  Condition awaitReason(String name, String reason) {
    await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
      Condition c = ready(get(name));
      assertThat(c).isNotNull();
      assertThat(c.getReason()).as(c.getMessage()).isEqualTo(reason);
    });
    return ready(get(name));
  }

  NixekMachineImage awaitReady(String name) {
    Condition c = awaitReason(name, "Ready");
    assertThat(c.getStatus()).isEqualTo("True");
    return get(name);
  }

  static Condition ready(NixekMachineImage image) {
    return image == null || image.getStatus() == null ? null
        : Conditions.find(image.getStatus().conditions, Conditions.READY).orElse(null);
  }
}
