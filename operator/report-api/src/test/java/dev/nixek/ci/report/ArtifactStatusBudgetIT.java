package dev.nixek.ci.report;

import static dev.nixek.ci.report.Harness.NS;
import static dev.nixek.ci.report.Harness.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekArtifactStatus;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobArtifact;
import dev.nixek.ci.common.logs.LocalArtifactStore;
import dev.nixek.ci.common.status.ObjectBudget;
import dev.nixek.ci.protocol.ArtifactPaths;
import dev.nixek.ci.protocol.ArtifactRefusal;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.report.Harness.Job;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The artifact entries of a job's status are bounded in stored bytes ({@link ObjectBudget#ARTIFACT_STATUS_MAX_BYTES}),
 * not only in number: at the limits (the longest paths and errors, of characters the API server stores as six bytes,
 * and NIXEK_ARTIFACT_STATUS_MAX at its maximum) the entries past the byte budget are counted, not listed.
 */
class ArtifactStatusBudgetIT {
  @TempDir
  static Path dir;

  private static Harness h;

  @BeforeAll
  static void start() throws Exception {
    h = new Harness(Map.of("NIXEK_ARTIFACT_STATUS_MAX", "200"), new MemoryLogStore(),
        new LocalArtifactStore(dir, Clock.systemUTC()));
  }

  @AfterAll
  static void stop() throws Exception {
    h.close();
  }

  @Test
  void entriesAtTheLongestStopBeingListedAtTheByteBudgetAndAreCounted() {
    Job j = h.createJob(NS, "long-paths", "build", "test");
    h.client.resources(NixekJob.class).inNamespace(j.namespace()).withName(j.name()).edit(job -> {
      for (var step : job.getSpec().steps) {
        NixekJobArtifact a = new NixekJobArtifact();
        a.name = "dist";
        a.paths = List.of("dist/*");
        step.artifacts = List.of(a);
      }
      return job;
    });
    int posted = 0;
    for (int step = 0; step < 2; step++) {
      h.ok(j, j.path(step, ReportPaths.STARTED), Harness.startedJson(step == 0 ? "build" : "test",
          "2026-11-25T10:00:0" + step + "Z"), "applied");
      for (int i = 0; i < 6; i++) {
        String prefix = "dist/" + step + "-" + i + "-";
        String path = prefix + "<".repeat(ArtifactPaths.MAX_PATH - prefix.length());
        h.ok(j, j.path(step, ReportPaths.ARTIFACT_REFUSED), json(new ArtifactRefusal("dist", path,
            "refused: " + "&".repeat(600))), "applied");
        posted++;
      }
      h.ok(j, j.path(step, ReportPaths.FINISHED), Harness.finishedJson(0, "2026-11-25T10:01:0" + step + "Z", 0),
          "applied");
    }

    NixekJob job = h.job(j);
    List<NixekArtifactStatus> listed = job.getStatus().steps.stream()
        .flatMap(s -> s.artifacts == null ? java.util.stream.Stream.empty() : s.artifacts.stream()).toList();
    long notListed = job.getStatus().steps.stream()
        .mapToLong(s -> s.artifactsNotListed == null ? 0 : s.artifactsNotListed).sum();
    assertThat(listed).as("some listed").isNotEmpty();
    assertThat(listed.size() + notListed).as("every file listed or counted").isEqualTo(posted);
    assertThat(notListed).as("the byte budget, not the count (200), stopped them").isPositive();
    // as the API server stores them (fabric8's JSON, Go's escapes), each with its separating comma
    long stored = listed.stream().mapToLong(a -> ObjectBudget.storedBytes(Serialization.asJson(a)) + 1).sum();
    assertThat(stored).isLessThanOrEqualTo(ObjectBudget.ARTIFACT_STATUS_MAX_BYTES)
        .isGreaterThan(ObjectBudget.ARTIFACT_STATUS_MAX_BYTES - 10 * 1024);
    // the first files are the listed ones (a refusal's path is listed cut to 512 characters)
    assertThat(listed.get(0).path).startsWith("dist/0-0-<").hasSize(512);
    System.out.printf("artifact entries at the longest: %d listed (%d bytes stored), %d counted%n", listed.size(),
        stored, notListed);
  }
}
