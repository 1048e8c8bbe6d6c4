package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.testing.kube.TestKubelet;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Trust domains on the real API server with the real builder, real nix and s3proxy (docs/images.md#trust-domains):
 * what one namespace built is never another's image, and an image's drvPath is taken only from a job's evaluation.
 */
class TrustDomainIT extends RealApiServerTier {

  @Test
  void aMachineBuiltInOneNamespaceIsBuiltAgainInAnotherNeverBorrowed() throws Exception {
    String other = server.createNamespace("team-b");
    operator = new ImageOperator(client, env, ns, Map.of("NIXEK_WATCH_NAMESPACES", ns + "," + other), null).start();
    try (TestKubelet otherKubelet = env.kubelet(client, other)) {
      String machine = ImageTestEnv.uniqueMachine("shared-machine");
      create(ImageTestEnv.image(ns, "a", machine));
      NixekMachineImage a = awaitReady("a");

      client.resources(NixekMachineImage.class).inNamespace(other).resource(ImageTestEnv.image(other, "b", machine))
          .create();
      await().atMost(Duration.ofSeconds(180)).until(() -> {
        NixekMachineImage b = client.resources(NixekMachineImage.class).inNamespace(other).withName("b").get();
        return b != null && b.getStatus() != null && b.getStatus().imageId != null;
      });
      NixekMachineImage b = client.resources(NixekMachineImage.class).inNamespace(other).withName("b").get();

      // the same machine, two identities: B built, uploaded, imported and registered its own
      assertThat(b.getStatus().imageHash).isNotEqualTo(a.getStatus().imageHash);
      assertThat(b.getStatus().imageId).isNotEqualTo(a.getStatus().imageId);
      assertThat(b.getStatus().amiName).isNotEqualTo(a.getStatus().amiName);
      assertThat(b.getStatus().s3Uri).isNotEqualTo(a.getStatus().s3Uri);
      assertThat(otherKubelet.started()).as("B's builder pods").containsExactly(b.getStatus().builderPod);
      assertThat(env.ec2.count("ImportSnapshot")).isEqualTo(2);
      assertThat(env.ec2.count("RegisterImage")).isEqualTo(2);
      assertThat(env.ec2.images()).hasSize(2).anySatisfy(i -> {
        assertThat(i.imageId()).isEqualTo(b.getStatus().imageId);
        assertThat(i.tags()).containsEntry("nixek.dev/trust-domain", "namespace/" + other);
      });
    }
  }

  @Test
  void anImageClaimingAnotherNamespacesDrvPathBuildsNothingAndNeverGetsItsAmi() throws Exception {
    operator.start();
    // B's machine evaluated to this drvPath, and B's AMI of it exists; A claims the drvPath with an expression whose
    // build would rewrite its store's deriver record so that the builder's own check passes
    String drvPath = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-image-amazon-25.05-x86_64-linux.drv";
    String victimAmi = env.ec2.seedImage(ImageNames.ami(ImageTestEnv.CLUSTER, ImageIdentity.evaluated(drvPath, null,
        null, null, null, null, null, "namespace/team-b")), env.ec2.seedSnapshot(1, Map.of()), Map.of());
    NixekMachineImage claim = ImageTestEnv.image(ns, "claim", null);
    claim.getSpec().machine = null;
    claim.getSpec().drvPath = drvPath;
    claim.getSpec().nix = """
        { ... }: {
          machine = { ... }: { };
          steps = [ { name = "x"; run = "true"; } ];
          # the build would run: sqlite3 /nix/var/nix/db/db.sqlite "update ValidPaths set deriver = '<drvPath>'"
        }
        """;
    create(claim);

    awaitReason("claim", "BuildFailed");
    NixekMachineImage refused = get("claim");
    assertThat(ready(refused).getStatus()).isEqualTo("False");
    assertThat(ready(refused).getMessage()).contains("no job in namespace " + ns + " was evaluated to " + drvPath);
    assertThat(refused.getStatus().imageId).isNull();
    assertThat(refused.getStatus().amiName).isNotEqualTo(ImageNames.ami(ImageTestEnv.CLUSTER,
        ImageIdentity.evaluated(drvPath, null, null, null, null, null, null, "namespace/team-b")));
    assertThat(kubelet.started()).as("builder pods").isEmpty();
    assertThat(env.ec2.count("ImportSnapshot")).isZero();
    assertThat(client.v1().events().inNamespace(ns).list().getItems()).map(Event::getReason).contains("BuildFailed");
    assertThat(env.ec2.images()).singleElement().satisfies(i -> assertThat(i.imageId()).isEqualTo(victimAmi));
  }
}
