package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.protocol.OutputChunk;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One job in memory for the ingest's unit tests: its object (as the API server would answer a GET, counted), a
 * shared {@link MemoryLogStore}, and replicas ({@link #replica}) each with its own cursors, as report API instances.
 */
final class IngestFixture {
  static final String UID = "uid-1";
  final NixekJob job = new NixekJob();
  final MemoryLogStore store = new MemoryLogStore();
  final AtomicInteger gets = new AtomicInteger();
  final AtomicLong clock = new AtomicLong(1_000_000);
  final TokenRecord token;

  IngestFixture(int steps) {
    job.setMetadata(new ObjectMetaBuilder().withNamespace("ci").withName("j").withUid(UID).build());
    NixekJobSpec spec = new NixekJobSpec();
    spec.steps = new ArrayList<>();
    NixekJobStatus status = new NixekJobStatus();
    status.steps = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      NixekJobStep s = new NixekJobStep();
      s.name = "s" + i;
      s.run = "true";
      spec.steps.add(s);
      NixekStepStatus st = new NixekStepStatus();
      st.name = s.name;
      st.state = State.Pending;
      status.steps.add(st);
    }
    String sha = JobTokens.sha256Hex("token");
    status.stepTokenSha256 = sha;
    job.setSpec(spec);
    job.setStatus(status);
    token = new TokenRecord("ci", "j", UID, "id", sha, JobTokens.Purpose.STEPS);
  }

  IngestFixture running(int index) {
    job.getStatus().steps.get(index).state = State.Running;
    return this;
  }

  /** A report API instance's ingest over the shared store, with its own cursors. */
  OutputIngest replica(StepCursors cursors, LogLimits limits) {
    return new OutputIngest(store, cursors, limits, t -> {
      gets.incrementAndGet();
      return job;
    }, t -> dev.nixek.ci.common.status.Conditions.isTerminal(job.getStatus()), 4096, 131072);
  }

  StepCursors cursors() {
    return new StepCursors(clock::get);
  }

  static OutputChunk chunk(long seq, long offset, byte[] data) {
    return new OutputChunk(seq, offset, Base64.getEncoder().encodeToString(data));
  }

  static OutputChunk chunk(long seq, long offset, String text) {
    return chunk(seq, offset, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  byte[] stored(int index) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    store.read(new StepLog("ci", "j", UID, index), 0, Long.MAX_VALUE, out);
    return out.toByteArray();
  }
}
