package dev.nixek.ci.common.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.protocol.ArtifactPaths;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalArtifactStoreTest {
  private static final JobLogs JOB = new JobLogs("ci", "build", "uid-1");
  private static final byte[] DATA = "hello artifact\n".getBytes(StandardCharsets.UTF_8);

  @TempDir
  Path dir;

  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-07T10:00:00Z"));
  private final Clock clock = new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now.get();
    }
  };

  @Test
  void anUploadToTheSignedUrlIsCheckedCommittedListedAndReadBack() throws Exception {
    LocalArtifactStore store = new LocalArtifactStore(dir, clock);
    ArtifactRef ref = new ArtifactRef(JOB, 0, "dist", "out/a b.txt");
    var target = store.prepare(ref, DATA.length, sha(DATA), Duration.ofMinutes(5));
    assertThat(target.url()).startsWith(LocalArtifactStore.UPLOAD_PATH);
    assertThat(store.list(JOB)).as("pending files are not listed").isEmpty();
    store.receive(token(target.url()), new ByteArrayInputStream(DATA));
    assertThat(store.list(JOB)).isEmpty();
    store.commit(ref, DATA.length, sha(DATA));
    store.commit(ref, DATA.length, sha(DATA)); // a replay
    assertThat(store.list(JOB)).extracting(a -> a.ref().path(), ArtifactStore.StoredArtifact::size)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("out/a b.txt", (long) DATA.length));
    try (var d = store.open(ref).orElseThrow()) {
      assertThat(d.in().readAllBytes()).isEqualTo(DATA);
    }
    assertThat(store.jobs()).extracting(j -> j.job()).containsExactly(JOB);
    store.delete(JOB);
    assertThat(store.list(JOB)).isEmpty();
    assertThat(store.jobs()).isEmpty();
  }

  @Test
  void otherBytesThanAnnouncedAreRefusedAndNothingIsListed() throws Exception {
    LocalArtifactStore store = new LocalArtifactStore(dir, clock);
    ArtifactRef ref = new ArtifactRef(JOB, 0, "dist", "a.txt");
    var target = store.prepare(ref, DATA.length, sha(DATA), Duration.ofMinutes(5));
    byte[] other = DATA.clone();
    other[0] = 'H';
    assertThatThrownBy(() -> store.receive(token(target.url()), new ByteArrayInputStream(other)))
        .isInstanceOf(ArtifactStore.MismatchException.class).hasMessageContaining("SHA-256");
    byte[] longer = (new String(DATA, StandardCharsets.UTF_8) + "x").getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> store.receive(token(target.url()), new ByteArrayInputStream(longer)))
        .isInstanceOf(ArtifactStore.MismatchException.class).hasMessageContaining("longer");
    assertThatThrownBy(() -> store.commit(ref, DATA.length, sha(DATA)))
        .isInstanceOf(ArtifactStore.MismatchException.class).hasMessageContaining("nothing was uploaded");
    assertThat(store.list(JOB)).isEmpty();
    try (var files = Files.walk(dir)) {
      assertThat(files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
          .as("no temporary file left").containsExactly(".upload-key");
    }
  }

  @Test
  void aSignedUrlExpiresAndCannotBeForged() throws Exception {
    LocalArtifactStore store = new LocalArtifactStore(dir, clock);
    ArtifactRef ref = new ArtifactRef(JOB, 0, "dist", "a.txt");
    String token = token(store.prepare(ref, DATA.length, sha(DATA), Duration.ofSeconds(2)).url());
    now.set(now.get().plusSeconds(2));
    assertThatThrownBy(() -> store.receive(token, new ByteArrayInputStream(DATA)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expired");
    now.set(now.get().minusSeconds(1));
    String other = token(store.prepare(new ArtifactRef(JOB, 0, "dist", "b.txt"), DATA.length, sha(DATA),
        Duration.ofSeconds(60)).url());
    // the payload of one URL with the signature of another
    String forged = token.substring(0, token.indexOf('.')) + other.substring(other.indexOf('.'));
    assertThatThrownBy(() -> store.receive(forged, new ByteArrayInputStream(DATA)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("signature");
    // another process sharing the directory shares the key: its URLs work here
    LocalArtifactStore replica = new LocalArtifactStore(dir, clock);
    replica.receive(other, new ByteArrayInputStream(DATA));
    store.commit(new ArtifactRef(JOB, 0, "dist", "b.txt"), DATA.length, sha(DATA));
    assertThat(store.list(JOB)).hasSize(1);
  }

  @Test
  void namesAndPathsThatCouldLeaveTheJobsPlaceAreRefused() {
    for (String bad : List.of("../x", "/etc/passwd", "a/../../b", "a//b", "./a", "a\\b", "a\nb", "")) {
      assertThatThrownBy(() -> new ArtifactRef(JOB, 0, "dist", bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> new ArtifactRef(JOB, 0, "../dist", "a")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ArtifactRef(new JobLogs("ci", "../x", "u"), 0, "dist", "a"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(ArtifactPaths.matches(List.of("dist/*.tar.gz"), "dist/a.tar.gz")).isTrue();
    assertThat(ArtifactPaths.matches(List.of("dist/*.tar.gz"), "dist/sub/a.tar.gz")).isFalse();
    assertThat(ArtifactPaths.matches(List.of("reports/**"), "reports/a/b.xml")).isTrue();
    assertThat(ArtifactPaths.checkGlob("../*")).isPresent();
    assertThat(ArtifactPaths.checkGlob("/tmp/*")).isPresent();
    assertThat(ArtifactPaths.checkGlob("dist/[a")).isPresent();
    // the CRD's pattern (the API server's check) and the code's rule agree
    java.util.regex.Pattern crd = java.util.regex.Pattern.compile(
        dev.nixek.ci.api.v1alpha1.NixekJobArtifact.PATH_PATTERN);
    for (String p : List.of("dist/*.tar.gz", "reports/**", ".hidden/x", "..a/b", "a...", "a b/c", "../x", "/etc",
        "a//b", "./a", "a/.", "a/..", "a\\b", "a\tb", ".", "..", "x/")) {
      assertThat(crd.matcher(p).matches()).as(p).isEqualTo(ArtifactPaths.checkPath(p).isEmpty());
    }
  }

  private static String token(String url) {
    return url.substring(LocalArtifactStore.UPLOAD_PATH.length());
  }

  static String sha(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
