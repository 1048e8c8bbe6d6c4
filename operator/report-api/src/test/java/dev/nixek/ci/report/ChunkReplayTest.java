package dev.nixek.ci.report;

import static dev.nixek.ci.report.IngestFixture.chunk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.protocol.OutputChunk;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * Chunks are checked against the log store: a stored seq sent again with its offset and bytes is a duplicate, with
 * anything else a 409 that changes nothing; order, gaps and offsets likewise; the step must be running.
 */
class ChunkReplayTest {
  private static final LogLimits NO_LIMIT = new LogLimits(1L << 40, 1L << 40);
  private final IngestFixture f = new IngestFixture(2).running(0);
  private final OutputIngest ingest = f.replica(f.cursors(), NO_LIMIT);

  private void twoChunks() {
    assertThat(ingest.output(f.token, 0, chunk(0, 0, "abc"))).isInstanceOf(Applied.class);
    assertThat(ingest.output(f.token, 0, chunk(1, 3, "defg"))).isInstanceOf(Applied.class);
  }

  @Test
  void anyStoredChunkAgainByteForByteIsADuplicate() throws Exception {
    twoChunks();
    assertThat(ingest.output(f.token, 0, chunk(1, 3, "defg"))).isInstanceOf(Duplicate.class);
    // older chunks too: the store keeps every chunk's digest
    assertThat(ingest.output(f.token, 0, chunk(0, 0, "abc"))).isInstanceOf(Duplicate.class);
    assertThat(f.store.puts.get()).isEqualTo(2);
    assertThat(new String(f.stored(0), StandardCharsets.UTF_8)).isEqualTo("abcdefg");
  }

  @Test
  void theSameSeqWithOtherBytesIsAConflictAndChangesNothing() throws Exception {
    twoChunks();
    assertConflict(ingest.output(f.token, 0, chunk(1, 3, "DEFG")), "other bytes");
    assertConflict(ingest.output(f.token, 0, chunk(1, 3, "de")), "other bytes");
    assertConflict(ingest.output(f.token, 0, chunk(1, 2, "cdefg")), "other bytes");
    assertConflict(ingest.output(f.token, 0, chunk(0, 0, "xyz")), "other bytes");
    assertThat(new String(f.stored(0), StandardCharsets.UTF_8)).isEqualTo("abcdefg");
  }

  @Test
  void gapsAndWrongOffsetsAreConflicts() throws Exception {
    twoChunks();
    assertConflict(ingest.output(f.token, 0, chunk(3, 7, "x")), "arrived before chunk 2");
    assertConflict(ingest.output(f.token, 0, chunk(2, 8, "x")), "starts at byte 8, but 7 bytes were stored");
    assertThat(ingest.output(f.token, 0, chunk(2, 7, "h"))).isInstanceOf(Applied.class);
    assertThat(new String(f.stored(0), StandardCharsets.UTF_8)).isEqualTo("abcdefgh");
  }

  @Test
  void aStepThatIsNotRunningTakesNoOutputAndAnUnknownStepIs404() {
    assertConflict(ingest.output(f.token, 1, chunk(0, 0, "x")), "is Pending");
    f.job.getStatus().steps.get(1).state = State.Skipped;
    assertConflict(ingest.output(f.token, 1, chunk(0, 0, "x")), "is Skipped");
    ReportOutcome o = ingest.output(f.token, 2, chunk(0, 0, "x"));
    assertThat(((Rejected) o).httpStatus()).isEqualTo(404);
  }

  @Test
  void aRetriedJobsNewAttemptIsNotHeldToTheOldAttemptsCursor() throws Exception {
    twoChunks();
    // the job is retried: its logs are deleted and a new attempt's token replaces the old one's hash
    f.store.delete(new dev.nixek.ci.common.logs.JobLogs("ci", "j", IngestFixture.UID));
    String next = dev.nixek.ci.common.token.JobTokens.sha256Hex("next attempt");
    f.job.getStatus().stepTokenSha256 = next;
    TokenRecord nextToken = new TokenRecord("ci", "j", IngestFixture.UID, "id2", next,
        dev.nixek.ci.common.token.JobTokens.Purpose.STEPS);
    // this replica still holds the old attempt's cursor (seq 2, offset 7); the new attempt starts at 0
    assertThat(ingest.output(nextToken, 0, chunk(0, 0, "new"))).isInstanceOf(Applied.class);
    assertThat(ingest.output(nextToken, 0, chunk(1, 3, "er"))).isInstanceOf(Applied.class);
    assertThat(new String(f.stored(0), StandardCharsets.UTF_8)).isEqualTo("newer");
    // and the old attempt's token is refused, not continued from a cursor
    assertThat(((Rejected) ingest.output(f.token, 0, chunk(2, 7, "h"))).httpStatus()).isEqualTo(401);
  }

  @Test
  void malformedChunksAre422() {
    assertThat(((Rejected) ingest.output(f.token, 0, new OutputChunk(0, 0, "%%%"))).httpStatus()).isEqualTo(422);
    assertThat(((Rejected) ingest.output(f.token, 0, new OutputChunk(-1, 0, "eA=="))).httpStatus()).isEqualTo(422);
    String big = Base64.getEncoder().encodeToString(new byte[OutputChunk.MAX_BYTES + 1]);
    assertThat(((Rejected) ingest.output(f.token, 0, new OutputChunk(0, 0, big))).httpStatus()).isEqualTo(422);
    assertThat(f.store.puts.get()).isZero();
  }

  @Test
  void aSealedStepTakesOnlyReplays() throws Exception {
    twoChunks();
    f.store.seal(f.token.step(0));
    f.job.getStatus().steps.get(0).state = State.Succeeded;
    OutputIngest other = f.replica(f.cursors(), NO_LIMIT);
    assertThat(other.output(f.token, 0, chunk(1, 3, "defg"))).isInstanceOf(Duplicate.class);
    assertConflict(other.output(f.token, 0, chunk(2, 7, "late")), "already finished");
    // this replica still thinks the step runs: the store tells it otherwise
    assertConflict(ingest.output(f.token, 0, chunk(2, 7, "late")), "already finished");
  }

  @Test
  void inOrderChunksCostOneGetPerStepAndNoStoreRead() {
    for (int i = 0; i < 100; i++) {
      assertThat(ingest.output(f.token, 0, chunk(i, i, "x"))).isInstanceOf(Applied.class);
    }
    assertThat(f.gets.get()).isEqualTo(1);
    assertThat(f.store.puts.get()).isEqualTo(100);
  }

  @Test
  void anEndedJobTakesReplaysAndRevokesTheRest() {
    twoChunks();
    f.job.getStatus().conditions = dev.nixek.ci.common.status.Conditions.with(null,
        dev.nixek.ci.common.status.Conditions.SUCCEEDED, "False", "Cancelled", "", 1L, java.time.Instant.EPOCH);
    OutputIngest restarted = f.replica(f.cursors(), NO_LIMIT);
    assertThat(restarted.output(f.token, 0, chunk(1, 3, "defg"))).isInstanceOf(Duplicate.class);
    ReportOutcome o = restarted.output(f.token, 0, chunk(2, 7, "more"));
    assertThat(((Rejected) o).httpStatus()).isEqualTo(401);
  }

  @Test
  void aStoreOutageIs503AndTheSameChunkIsStoredOnItsRetry() throws Exception {
    assertThat(ingest.output(f.token, 0, chunk(0, 0, "abc"))).isInstanceOf(Applied.class);
    f.store.failPuts = true;
    assertThatThrownBy(() -> ingest.output(f.token, 0, chunk(1, 3, "def")))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(503));
    f.store.failPuts = false;
    assertThat(ingest.output(f.token, 0, chunk(1, 3, "def"))).isInstanceOf(Applied.class);
    assertThat(new String(f.stored(0), StandardCharsets.UTF_8)).isEqualTo("abcdef");
  }

  private static void assertConflict(ReportOutcome o, String says) {
    assertThat(o).isInstanceOf(Rejected.class);
    assertThat(((Rejected) o).httpStatus()).as(((Rejected) o).message()).isEqualTo(409);
    assertThat(((Rejected) o).message()).contains(says);
  }
}
