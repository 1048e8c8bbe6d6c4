package dev.nixek.ci.report;

import static dev.nixek.ci.report.IngestFixture.chunk;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A step over its limit is cut with one marker line; later chunks are acknowledged, not stored. */
class LogLimitsTest {
  private final IngestFixture f = new IngestFixture(2).running(0);

  @Test
  void aStepOverItsLimitIsCutWithOneMarkerAndGoesOn() throws Exception {
    OutputIngest ingest = f.replica(f.cursors(), new LogLimits(10, 1000));
    assertThat(ingest.output(f.token, 0, chunk(0, 0, "0123456"))).isInstanceOf(Applied.class);
    assertThat(ingest.output(f.token, 0, chunk(1, 7, "789abc"))).isInstanceOf(Applied.class);
    assertThat(ingest.output(f.token, 0, chunk(2, 13, "more"))).isInstanceOf(Applied.class);
    assertThat(ingest.output(f.token, 0, chunk(3, 17, "and more"))).isInstanceOf(Applied.class);
    // replays of the cut chunk and of one after it are duplicates
    assertThat(ingest.output(f.token, 0, chunk(1, 7, "789abc"))).isInstanceOf(Duplicate.class);
    assertThat(ingest.output(f.token, 0, chunk(3, 17, "and more"))).isInstanceOf(Duplicate.class);
    assertThat(new String(f.stored(0), StandardCharsets.UTF_8))
        .isEqualTo("0123456789\n[nixek-ci: output cut at 10 bytes: NIXEK_LOG_STEP_LIMIT_BYTES]\n");
    assertThat(f.store.puts.get()).isEqualTo(2);

    // a restarted replica knows the cut from the store and keeps acknowledging
    OutputIngest restarted = f.replica(f.cursors(), new LogLimits(10, 1000));
    assertThat(restarted.output(f.token, 0, chunk(4, 25, "still"))).isInstanceOf(Applied.class);
    assertThat(restarted.output(f.token, 0, chunk(0, 0, "0123456"))).isInstanceOf(Duplicate.class);
    assertThat(f.store.puts.get()).isEqualTo(2);
  }

  @Test
  void theJobLimitCountsEarlierSteps() throws Exception {
    f.job.getStatus().steps.get(0).state = dev.nixek.ci.api.v1alpha1.NixekStepStatus.State.Succeeded;
    f.job.getStatus().steps.get(0).outputBytes = 15L;
    f.running(1);
    OutputIngest ingest = f.replica(f.cursors(), new LogLimits(100, 20));
    assertThat(ingest.output(f.token, 1, chunk(0, 0, "0123456789"))).isInstanceOf(Applied.class);
    assertThat(new String(f.stored(1), StandardCharsets.UTF_8))
        .isEqualTo("01234\n[nixek-ci: output cut at 5 bytes: NIXEK_LOG_JOB_LIMIT_BYTES]\n");
  }
}
