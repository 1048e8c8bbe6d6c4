package dev.nixek.ci.report;

import static dev.nixek.ci.report.Harness.NS;
import static dev.nixek.ci.report.Harness.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekArtifactStatus;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobArtifact;
import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.logs.LocalArtifactStore;
import dev.nixek.ci.protocol.ArtifactFile;
import dev.nixek.ci.protocol.ArtifactRefusal;
import dev.nixek.ci.protocol.ArtifactUpload;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.report.Harness.Job;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The artifact handshake with the job token (docs/artifacts.md), against the fabric8 mock API server and the local
 * store: only a declared artifact of the Running step, a path its globs match, within the limits; the upload to the
 * signed URL must be exactly the announced bytes; complete lists the file once; the status list is bounded per job
 * and says how many it left out.
 */
class ArtifactApiIT {
  @TempDir
  static Path dir;

  private static Harness h;
  private static LocalArtifactStore store;

  @BeforeAll
  static void start() throws Exception {
    store = new LocalArtifactStore(dir, Clock.systemUTC());
    h = new Harness(Map.of("NIXEK_ARTIFACT_FILE_LIMIT_BYTES", "100", "NIXEK_ARTIFACT_STATUS_MAX", "2"),
        new MemoryLogStore(), store);
  }

  @AfterAll
  static void stop() throws Exception {
    h.close();
  }

  @Test
  void onlyDeclaredFilesOfTheRunningStepWithinTheLimitsAreUploadedCheckedAndListed() throws Exception {
    Job j = declare(h.createJob(NS, "arts", "build"));
    byte[] data = "artifact bytes\n".getBytes(StandardCharsets.UTF_8);
    ArtifactFile file = new ArtifactFile("dist", "dist/a.txt", data.length, sha(data));

    assertThat(post(j, ReportPaths.ARTIFACT_UPLOAD, file).statusCode()).as("before the step started").isEqualTo(409);
    h.ok(j, j.path(0, ReportPaths.STARTED), Harness.startedJson("build", "2026-11-25T10:00:01Z"), "applied");

    HttpResponse<String> undeclared = post(j, ReportPaths.ARTIFACT_UPLOAD,
        new ArtifactFile("other", "dist/a.txt", data.length, sha(data)));
    assertThat(undeclared.statusCode()).isEqualTo(422);
    assertThat(undeclared.body()).contains("declares no artifact 'other'");
    HttpResponse<String> unmatched = post(j, ReportPaths.ARTIFACT_UPLOAD,
        new ArtifactFile("dist", "src/a.txt", data.length, sha(data)));
    assertThat(unmatched.statusCode()).isEqualTo(422);
    assertThat(unmatched.body()).contains("matches none");
    HttpResponse<String> escaping = post(j, ReportPaths.ARTIFACT_UPLOAD,
        new ArtifactFile("dist", "dist/../../etc/passwd", data.length, sha(data)));
    assertThat(escaping.statusCode()).isEqualTo(422);
    HttpResponse<String> tooLarge = post(j, ReportPaths.ARTIFACT_UPLOAD,
        new ArtifactFile("dist", "dist/big", 101, sha(data)));
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(tooLarge.body()).contains("artifact_too_large").contains("NIXEK_ARTIFACT_FILE_LIMIT_BYTES");
    Job other = declare(h.createJob(NS, "other", "build"));
    assertThat(h.post(other.token(), j.path(0, ReportPaths.ARTIFACT_UPLOAD), json(file)).statusCode())
        .as("another job's token").isEqualTo(403);

    HttpResponse<String> answer = post(j, ReportPaths.ARTIFACT_UPLOAD, file);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    ArtifactUpload upload = Json.mapper().readValue(answer.body(), ArtifactUpload.class);
    assertThat(upload.url()).startsWith(LocalArtifactStore.UPLOAD_PATH);
    byte[] other1 = data.clone();
    other1[0] = 'A';
    assertThat(put(upload.url(), other1)).as("other bytes of the same length").isEqualTo(422);
    assertThat(put(upload.url(), "short".getBytes(StandardCharsets.UTF_8))).as("another length").isEqualTo(413);
    assertThat(put(upload.url().substring(0, upload.url().length() - 2) + "xx", data)).as("forged").isEqualTo(403);
    assertThat(post(j, ReportPaths.ARTIFACT_COMPLETE, file).statusCode()).as("nothing uploaded yet").isEqualTo(422);
    assertThat(put(upload.url(), data)).isEqualTo(200);
    h.ok(j, j.path(0, ReportPaths.ARTIFACT_COMPLETE), json(file), "applied");
    h.ok(j, j.path(0, ReportPaths.ARTIFACT_COMPLETE), json(file), "duplicate");
    try (var d = store.open(new dev.nixek.ci.common.logs.ArtifactRef(new JobLogs(NS, "arts", j.uid()), 0, "dist",
        "dist/a.txt")).orElseThrow()) {
      assertThat(d.in().readAllBytes()).isEqualTo(data);
    }

    h.ok(j, j.path(0, ReportPaths.ARTIFACT_REFUSED), json(new ArtifactRefusal("dist", "dist/link",
        "refused: a symlink escaping the working directory (to /etc/passwd)")), "applied");
    h.ok(j, j.path(0, ReportPaths.ARTIFACT_REFUSED), json(new ArtifactRefusal("dist", "dist/third", "refused: x")),
        "applied");
    NixekJob job = h.job(j);
    List<NixekArtifactStatus> listed = job.getStatus().steps.get(0).artifacts;
    assertThat(listed).extracting(a -> a.path, a -> a.size, a -> a.sha256, a -> a.error).containsExactly(
        org.assertj.core.groups.Tuple.tuple("dist/a.txt", (long) data.length, sha(data), null),
        org.assertj.core.groups.Tuple.tuple("dist/link", null, null,
            "refused: a symlink escaping the working directory (to /etc/passwd)"));
    assertThat(job.getStatus().steps.get(0).artifactsNotListed).as("over NIXEK_ARTIFACT_STATUS_MAX").isEqualTo(1L);
  }

  private static Job declare(Job j) {
    h.client.resources(NixekJob.class).inNamespace(j.namespace()).withName(j.name()).edit(job -> {
      NixekJobArtifact a = new NixekJobArtifact();
      a.name = "dist";
      a.paths = List.of("dist/*");
      job.getSpec().steps.get(0).artifacts = List.of(a);
      return job;
    });
    return j;
  }

  private static HttpResponse<String> post(Job j, String what, Object body) {
    return h.post(j.token(), j.path(0, what), json(body));
  }

  private static int put(String path, byte[] bytes) {
    return h.send(h.request(path).PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build()).statusCode();
  }

  private static String sha(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
