package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.common.cache.CacheLayout;
import dev.nixek.ci.operator.testing.ReportApiProcess;
import io.fabric8.kubernetes.api.model.Event;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The binary cache wired end to end (docs/images.md#binary-cache): the real API server, the operator, builder pods
 * running the real builder jar and real nix through the test kubelet, s3proxy, and the report API as its own process
 * serving {@code /v1/cache}. The first image's build pushes what it built besides the image through its staging
 * grant; the operator publishes it signed; the second image of the machine changed by one line builds exactly one
 * derivation and substitutes the other four from the report API, as the builder pod's own nix says.
 */
class BinaryCacheFlowIT extends RealApiServerTier {
  private static final Pattern BUILDING = Pattern.compile("building '(/nix/store/[^']+\\.drv)'");
  private static final Pattern FETCHED = Pattern.compile("copying path '(/nix/store/[^']+)' from '([^']+)'");

  private ReportApiProcess reportApi;

  @AfterEach
  void stopReportApi() throws Exception {
    if (reportApi != null) {
      reportApi.close();
    }
  }

  private static String machine(String lastLine) {
    return "# cache flow\n{ ... }: { networking.hostName = \"" + lastLine + "\"; }\n";
  }

  @Test
  void aOneLineChangeBuildsOneDerivationAndSubstitutesTheRestFromTheReportApi() throws Exception {
    reportApi = ReportApiProcess.start(server.kubeconfig(), ns, work.resolve("report-api.log"), Map.of(
        "NIXEK_CACHE_BUCKET", ImageTestEnv.BUCKET,
        "NIXEK_CLUSTER_ID", ImageTestEnv.CLUSTER,
        "NIXEK_S3_ENDPOINT", env.s3.endpoint().toString(),
        "NIXEK_AWS_REGION", ImageTestEnv.REGION,
        "AWS_ACCESS_KEY_ID", env.s3.accessKey(),
        "AWS_SECRET_ACCESS_KEY", env.s3.secretKey()));
    String nonce = UUID.randomUUID().toString();
    operator = new ImageOperator(client, env, ns, Map.of(
        "NIXEK_CACHE_ENABLED", "true",
        "NIXEK_REPORT_URL", reportApi.url(),
        "NIXEK_BUILDER_BUILD_COMMAND", env.chainBuildCommand(nonce)), null).start();
    String root = new CacheLayout("nixek-cache", ImageTestEnv.CLUSTER).root(ns);

    create(ImageTestEnv.image(ns, "first", machine("five")));
    NixekMachineImage first = awaitReady("first");
    String firstLog = kubelet.logs(ns, first.getStatus().builderPod);
    assertThat(BUILDING.matcher(firstLog).results().count()).as(firstLog).isEqualTo(5);
    await().atMost(Duration.ofSeconds(60)).until(() -> reasons("first").contains("CachePublished"));
    assertThat(message("first", "CachePublished")).contains("published 4 store paths",
        "trust domain '" + ns + "'");
    List<String> keys = env.s3.s3Client().listObjectsV2(r -> r.bucket(ImageTestEnv.BUCKET).prefix(root)).contents()
        .stream().map(S3Object::key).toList();
    assertThat(keys).filteredOn(k -> k.endsWith(".narinfo")).hasSize(4);
    assertThat(keys).as("the staging bundle is deleted once published").noneMatch(k -> k.contains("/staging/"));
    // the pod held a read token in its netrc, never in its environment or arguments
    Map<String, String> podEnv = env.launchedEnvironments.get(first.getStatus().builderPod);
    assertThat(podEnv.get("NIX_CONFIG")).contains("extra-substituters = " + reportApi.url() + "/v1/cache/" + ns,
        "extra-trusted-public-keys = nixek-it-" + ns + "-1:", "netrc-file = ").doesNotContain("nxkc_");
    assertThat(podEnv.values()).noneMatch(v -> v.contains("nxkc_"));

    // the second builder pod's store starts empty, as every pod's does (its own /nix): what it does not build it
    // substitutes from the domain's cache or builds

    create(ImageTestEnv.image(ns, "second", machine("five, changed")));
    NixekMachineImage second = awaitReady("second");
    String log = kubelet.logs(ns, second.getStatus().builderPod);
    List<String> built = BUILDING.matcher(log).results().map(m -> m.group(1)).toList();
    List<String> fetched = FETCHED.matcher(log).results().map(m -> m.group(1) + " from " + m.group(2)).toList();
    assertThat(built).as(log).singleElement().satisfies(d -> assertThat(d).endsWith("-chain-nixos-amazon-image.drv"));
    assertThat(fetched).as(log).hasSize(4)
        .allMatch(f -> f.endsWith(" from " + reportApi.url() + "/v1/cache/" + ns));
    // the second pod built nothing besides its image: nothing to publish
    assertThat(reasons("second")).doesNotContain("CachePublished", "CachePublishFailed");
    System.out.printf("binary cache flow: first build %d derivations built; second %d built, %d substituted from the"
        + " report API (load %s)%n", 5, built.size(), fetched.size(),
        Files.readString(java.nio.file.Path.of("/proc/loadavg")).strip());
  }

  private List<String> reasons(String image) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> image.equals(e.getInvolvedObject().getName())).map(Event::getReason).toList();
  }

  private String message(String image, String reason) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> image.equals(e.getInvolvedObject().getName()) && reason.equals(e.getReason()))
        .map(Event::getMessage).findFirst().orElse("");
  }

}
