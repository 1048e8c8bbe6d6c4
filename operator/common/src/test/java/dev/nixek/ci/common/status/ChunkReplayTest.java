package dev.nixek.ci.common.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.protocol.OutputChunk;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Only a byte-identical replay of the last applied chunk is a duplicate; any other used seq is a 409. */
class ChunkReplayTest {
  private static final String T0 = "2026-11-25T10:00:00Z";
  private final List<NixekJobStep> spec = List.of(step("build"));

  private List<NixekStepStatus> twoChunks() {
    List<NixekStepStatus> s = applied(StepReports.started(spec, null, 0, new StepStarted("build", T0)));
    s = applied(StepReports.output(spec, s, 0, chunk(0, 0, "abc"), 4096));
    return applied(StepReports.output(spec, s, 0, chunk(1, 3, "defg"), 4096));
  }

  @Test
  void theLastChunkAgainByteForByteIsADuplicate() {
    List<NixekStepStatus> s = twoChunks();
    assertThat(s.get(0).lastChunkSha256).hasSize(32).isEqualTo(StepReports.digest("defg".getBytes()));
    assertThat(StepReports.output(spec, s, 0, chunk(1, 3, "defg"), 4096)).isInstanceOf(Duplicate.class);
    List<NixekStepStatus> done = applied(StepReports.finished(spec, s, 0, new StepFinished(0, T0, 7, false)));
    assertThat(StepReports.output(spec, done, 0, chunk(1, 3, "defg"), 4096)).isInstanceOf(Duplicate.class);
  }

  @Test
  void theSameSeqWithOtherBytesIsAConflictAndChangesNothing() {
    List<NixekStepStatus> s = twoChunks();
    String before = Serialization.asJson(s);
    assertConflict(StepReports.output(spec, s, 0, chunk(1, 3, "DEFG"), 4096), "other bytes");
    assertConflict(StepReports.output(spec, s, 0, chunk(1, 3, "de"), 4096), "other bytes");
    assertConflict(StepReports.output(spec, s, 0, chunk(1, 2, "cdefg"), 4096), "other bytes");
    List<NixekStepStatus> done = applied(StepReports.finished(spec, s, 0, new StepFinished(0, T0, 7, false)));
    assertConflict(StepReports.output(spec, done, 0, chunk(1, 3, "xxxx"), 4096), "other bytes");
    assertThat(Serialization.asJson(s)).isEqualTo(before);
  }

  @Test
  void anOlderChunkCannotBeReplayedEvenByteForByte() {
    // the agent has one report in flight: only the last chunk can come again; nothing keeps older chunks' bytes
    assertConflict(StepReports.output(spec, twoChunks(), 0, chunk(0, 0, "abc"), 4096), "only the last");
  }

  @Test
  void aStatusWithoutADigestTakesTheReplayOfItsLastChunkOnTrust() {
    List<NixekStepStatus> s = twoChunks();
    s.get(0).lastChunkSha256 = null; // written by a report API from before digests
    assertThat(StepReports.output(spec, s, 0, chunk(1, 3, "wxyz"), 4096)).isInstanceOf(Duplicate.class);
    assertConflict(StepReports.output(spec, s, 0, chunk(1, 3, "toolong"), 4096), "other bytes");
  }

  private static NixekJobStep step(String name) {
    NixekJobStep s = new NixekJobStep();
    s.name = name;
    s.run = "true";
    return s;
  }

  private static OutputChunk chunk(long seq, long offset, String text) {
    return new OutputChunk(seq, offset, Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8)));
  }

  private static List<NixekStepStatus> applied(ReportOutcome o) {
    assertThat(o).isInstanceOf(Applied.class);
    return ((Applied) o).steps();
  }

  private static void assertConflict(ReportOutcome o, String says) {
    assertThat(o).isInstanceOf(Rejected.class);
    assertThat(((Rejected) o).httpStatus()).isEqualTo(409);
    assertThat(((Rejected) o).message()).contains(says);
  }
}
