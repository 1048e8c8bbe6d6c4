package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.operator.image.BuilderOutcome.Built;
import dev.nixek.ci.operator.image.BuilderOutcome.Failed;
import dev.nixek.ci.operator.image.BuilderOutcome.Working;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

class BuilderResultsTest {
  private static final String SHA = "a".repeat(64);
  private static final String SUCCESS = "{\"bucket\":\"b\",\"key\":\"images/c/h/disk.vhd\",\"size\":1024,\"sha256\":\""
      + SHA + "\",\"drvPath\":\"/nix/store/x-image.drv\",\"outPath\":\"/nix/store/y-image\",\"format\":\"VHD\","
      + "\"bootMode\":\"uefi\",\"system\":\"aarch64-linux\",\"nixVersion\":\"2.26.3\",\"uploaded\":true}";

  private static Pod pod(String phase, Integer exitCode, String message) {
    PodBuilder b = new PodBuilder().withNewMetadata().withName("p").endMetadata()
        .withNewSpec().withActiveDeadlineSeconds(600L).endSpec()
        .withNewStatus().withPhase(phase).endStatus();
    if (exitCode != null) {
      b.editStatus().addNewContainerStatus().withName("builder").withNewState().withNewTerminated()
          .withExitCode(exitCode).withMessage(message).withReason(exitCode == 0 ? "Completed" : "Error")
          .endTerminated().endState().endContainerStatus().endStatus();
    }
    return b.build();
  }

  @Test
  void theCacheStepsOutcomeIsReadButNeverRefusesTheImage() {
    Built pushed = (Built) BuilderResults.of(pod("Succeeded", 0,
        SUCCESS.replace("}", ",\"cache\":{\"size\":2048,\"paths\":4}}")));
    assertThat(pushed.cache()).isEqualTo(new BuilderOutcome.CachePush(2048, 4, null));
    Built failed = (Built) BuilderResults.of(pod("Succeeded", 0,
        SUCCESS.replace("}", ",\"cache\":{\"size\":-1,\"paths\":0,\"error\":\"uploading part 1 failed: HTTP 403\"}}")));
    assertThat(failed.cache()).isEqualTo(new BuilderOutcome.CachePush(-1, 0, "uploading part 1 failed: HTTP 403"));
    Built malformed = (Built) BuilderResults.of(pod("Succeeded", 0,
        SUCCESS.replace("}", ",\"cache\":{\"paths\":\"x\"}}")));
    assertThat(malformed.cache().size()).isEqualTo(-1);
    assertThat(malformed.cache().error()).contains("malformed");
    assertThat(((Built) BuilderResults.of(pod("Succeeded", 0, SUCCESS))).cache()).isNull();
  }

  @Test
  void aSucceededPodGivesItsUploadedImage() {
    assertThat(BuilderResults.of(pod("Succeeded", 0, SUCCESS))).isEqualTo(new Built("b", "images/c/h/disk.vhd",
        1024, SHA, "/nix/store/x-image.drv", "VHD", "uefi", "aarch64-linux", "2.26.3"));
    // a builder that could not tell the Nix version still built the image
    assertThat(BuilderResults.of(pod("Succeeded", 0, SUCCESS.replace(",\"nixVersion\":\"2.26.3\"", ""))))
        .isInstanceOfSatisfying(Built.class, b -> assertThat(b.nixVersion()).isNull());
    assertThat(((Built) BuilderResults.of(pod("Succeeded", 0, SUCCESS))).s3Uri())
        .isEqualTo("s3://b/images/c/h/disk.vhd");
  }

  @Test
  void aFailedPodGivesTheBuildersErrorAndLogTail() {
    assertThat(BuilderResults.of(pod("Failed", 2, "{\"error\":\"build command exited with status 1\","
        + "\"logTail\":\"error: attribute 'gti' missing\"}")))
        .isEqualTo(new Failed("build command exited with status 1", "error: attribute 'gti' missing"));
    // the kubelet's fallback (the end of the log) when the builder wrote nothing
    assertThat(BuilderResults.of(pod("Failed", 137, "Killed\n"))).isEqualTo(
        new Failed("the builder exited with code 137 (Error)", "Killed\n"));
    assertThat(BuilderResults.of(new PodBuilder(pod("Failed", null, null)).editStatus().withReason("DeadlineExceeded")
        .withMessage("Pod was active on the node longer than the specified deadline").endStatus().build()))
        .isEqualTo(new Failed("the builder pod ran longer than its activeDeadlineSeconds (600s)",
            "Pod was active on the node longer than the specified deadline"));
  }

  @Test
  void aSucceededPodWithoutAUsableResultIsAFailure() {
    assertThat(BuilderResults.of(pod("Succeeded", 0, "")))
        .isInstanceOfSatisfying(Failed.class, f -> assertThat(f.error()).contains("left no result"));
    assertThat(BuilderResults.of(pod("Succeeded", 0, SUCCESS.replace(SHA, "nope"))))
        .isInstanceOfSatisfying(Failed.class, f -> assertThat(f.error()).contains("no SHA-256"));
    assertThat(BuilderResults.of(pod("Succeeded", 0, SUCCESS.replace("2.26.3", "2.26.3\\nforged: yes"))))
        .isInstanceOfSatisfying(Failed.class, f -> assertThat(f.error()).contains("malformed nixVersion"));
    assertThat(BuilderResults.of(pod("Succeeded", 0, SUCCESS.replace("VHD", "QCOW2"))))
        .isInstanceOfSatisfying(Failed.class, f -> assertThat(f.error()).contains("unknown disk format QCOW2"));
    assertThat(BuilderResults.of(pod("Succeeded", null, null)))
        .isInstanceOfSatisfying(Failed.class, f -> assertThat(f.error()).contains("container status is missing"));
  }

  @Test
  void aPodThatHasNotFinishedIsWorking() {
    assertThat(BuilderResults.of(pod("Pending", null, null))).isEqualTo(new Working(false));
    assertThat(BuilderResults.of(pod("Running", null, null))).isEqualTo(new Working(true));
    assertThat(BuilderResults.of(new PodBuilder().withNewMetadata().withName("p").endMetadata().build()))
        .isEqualTo(new Working(false));
  }
}
