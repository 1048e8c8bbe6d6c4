package dev.nixek.ci.report;

import static dev.nixek.ci.report.Harness.NS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportError;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.report.Harness.Job;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code POST /v1/jobs/{ns}/{name}/evaluation} against the fabric8 mock apiserver: the result becomes
 * {@code status.evaluation} (and Pending steps) once; replays are idempotent; every refusal — wrong token purpose,
 * oversize, malformed, invalid steps, dead token — changes nothing.
 */
class EvaluationApiIT {
  /** What nix/eval.nix prints for the seed job of docs/evaluation.md#the-seed-job, with the evaluating Nix's version. */
  static final String SEED = """
      {"machine":{"drvPath":"/nix/store/7lk0y9rlzhfdr1459v3aaljbvzkcxhql-nixos-image-amazon-25.05.stub-x86_64-linux.drv",\
      "system":"x86_64-linux"},"steps":[{"name":"build","run":"cargo build --release"},{"name":"test","run":"cargo test"}],\
      "nixVersion":"2.26.3"}""";
  private static Harness h;
  private static final AtomicInteger NAMES = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    h = new Harness(Map.of());
  }

  @AfterAll
  static void stop() throws Exception {
    if (h != null) {
      h.close();
    }
  }

  private static Job nixJob() {
    return h.createNixJob(NS, "eval-" + NAMES.incrementAndGet());
  }

  private static String path(Job j) {
    return ReportPaths.evaluation(j.namespace(), j.name());
  }

  private static HttpResponse<String> post(Job j, String body) {
    return h.post(j.token(), path(j), body);
  }

  private static String operatorFields(NixekJobStatus s) {
    NixekJobStatus copy = Serialization.clone(s);
    copy.steps = null;
    copy.evaluation = null;
    return Serialization.asJson(copy);
  }

  @Test
  void theResultBecomesTheJobsEvaluationAndItsStepsPending() {
    Job j = nixJob();
    String operatorBefore = operatorFields(h.job(j).getStatus());

    HttpResponse<String> r = post(j, SEED);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"result\":\"applied\"}");
    NixekJob job = h.job(j);
    assertThat(job.getStatus().evaluation.steps).extracting(s -> s.name, s -> s.run)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("build", "cargo build --release"),
            org.assertj.core.groups.Tuple.tuple("test", "cargo test"));
    assertThat(job.getStatus().evaluation.machine.drvPath)
        .isEqualTo("/nix/store/7lk0y9rlzhfdr1459v3aaljbvzkcxhql-nixos-image-amazon-25.05.stub-x86_64-linux.drv");
    assertThat(job.getStatus().evaluation.machine.system).isEqualTo("x86_64-linux");
    assertThat(job.getStatus().evaluation.nixVersion).as("provenance").isEqualTo("2.26.3");
    assertThat(job.getStatus().steps).extracting(s -> s.name, s -> s.state)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("build", State.Pending),
            org.assertj.core.groups.Tuple.tuple("test", State.Pending));
    assertThat(operatorFields(job.getStatus())).as("the operator's fields are untouched").isEqualTo(operatorBefore);
  }

  @Test
  void aReplayIsADuplicateAndAnotherResultAConflict() {
    Job j = nixJob();
    assertThat(post(j, SEED).statusCode()).isEqualTo(200);
    String after = h.snapshot(j);

    HttpResponse<String> replay = post(j, SEED);
    assertThat(replay.statusCode()).isEqualTo(200);
    assertThat(replay.body()).isEqualTo("{\"result\":\"duplicate\"}");
    // the same document written differently (key order, no machine key order) is the same result; so is one from
    // another Nix version (a replacement pod of a newer image): the first recorded version stays
    HttpResponse<String> reordered = post(j, """
        {"steps":[{"run":"cargo build --release","name":"build"},{"name":"test","run":"cargo test"}],
         "machine":{"system":"x86_64-linux",
         "drvPath":"/nix/store/7lk0y9rlzhfdr1459v3aaljbvzkcxhql-nixos-image-amazon-25.05.stub-x86_64-linux.drv"},
         "nixVersion":"2.28.4"}""");
    assertThat(reordered.body()).isEqualTo("{\"result\":\"duplicate\"}");
    assertThat(h.job(j).getStatus().evaluation.nixVersion).isEqualTo("2.26.3");

    HttpResponse<String> other = post(j, "{\"steps\":[{\"name\":\"x\",\"run\":\"true\"}],\"machine\":null}");
    assertThat(other.statusCode()).isEqualTo(409);
    assertThat(error(other).error()).isEqualTo("conflict");
    assertThat(h.snapshot(j)).as("nothing changed").isEqualTo(after);
  }

  @Test
  void aJobWithoutAMachineIsRecordedWithoutOne() {
    Job j = nixJob();
    HttpResponse<String> r = post(j, "{\"steps\":[{\"name\":\"hello\",\"command\":[\"echo\",\"hi\"],"
        + "\"env\":{\"B\":\"2\",\"A\":\"1\"},\"timeoutSeconds\":30}],\"machine\":null}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    var step = h.job(j).getStatus().evaluation.steps.get(0);
    assertThat(step.command).containsExactly("echo", "hi");
    assertThat(step.env).containsExactly(Map.entry("A", "1"), Map.entry("B", "2"));
    assertThat(step.timeoutSeconds).isEqualTo(30L);
    assertThat(h.job(j).getStatus().evaluation.machine).isNull();
    assertThat(h.job(j).getStatus().evaluation.machineSkipped).isNull();
  }

  @Test
  void aSkippedMachineIsRecordedAsSkipped() {
    Job j = nixJob();
    HttpResponse<String> r = post(j, "{\"steps\":[{\"name\":\"hello\",\"run\":\"true\"}],\"machine\":null,"
        + "\"machineSkipped\":true}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(h.job(j).getStatus().evaluation.machine).isNull();
    assertThat(h.job(j).getStatus().evaluation.machineSkipped).isTrue();
  }

  @Test
  void stepReportsFollowTheEvaluatedSteps() {
    Job j = nixJob();
    assertThat(post(j, SEED).statusCode()).isEqualTo(200);
    Job agent = h.withStepToken(j);
    h.runStep(agent, 0, "build", List.of("compiled\n".getBytes(StandardCharsets.UTF_8)), 0);
    h.runStep(agent, 1, "test", List.of(), 0);
    assertThat(h.job(j).getStatus().steps).extracting(s -> s.state).containsOnly(State.Succeeded);
    HttpResponse<String> beyond = h.post(agent.token(), agent.path(2, "started"),
        Harness.startedJson("x", "2026-11-25T10:01:00Z"));
    assertThat(beyond.statusCode()).as("the job has exactly the evaluated steps").isEqualTo(404);
  }

  @Test
  void aLargeResultUnderTheEvaluationLimitIsAcceptedThoughOverTheReportLimit() {
    Job j = nixJob();
    // 400 steps of ~250 bytes: ~100 KiB, three times the 32 KiB limit of step reports
    String steps = IntStream.range(0, 400)
        .mapToObj(i -> "{\"name\":\"step-" + i + "\",\"run\":\"" + "echo x; ".repeat(28) + "\"}")
        .collect(Collectors.joining(","));
    String body = "{\"steps\":[" + steps + "],\"machine\":null}";
    assertThat(body.length()).isBetween(64 * 1024, 200 * 1024);
    HttpResponse<String> r = post(j, body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(h.job(j).getStatus().evaluation.steps).hasSize(400);
    assertThat(h.job(j).getStatus().steps).hasSize(400);
  }

  /** A refused evaluation post: what is sent, and the status and error word it gets. */
  record Case(String what, Kind kind, String body, int status, String error) {
    @Override
    public String toString() {
      return what;
    }
  }

  enum Kind { EVALUATION_TOKEN, STEP_TOKEN, UNKNOWN_TOKEN, OTHER_JOBS_TOKEN, WRONG_CONTENT_TYPE }

  static List<Case> refusals() {
    String okBody = SEED;
    return List.of(
        new Case("a step token at the evaluation endpoint", Kind.STEP_TOKEN, okBody, 401, "unauthorized"),
        new Case("an evaluation token no record knows", Kind.UNKNOWN_TOKEN, okBody, 401, "unauthorized"),
        new Case("another job's evaluation token", Kind.OTHER_JOBS_TOKEN, okBody, 403, "forbidden"),
        new Case("over the evaluation limit", Kind.EVALUATION_TOKEN,
            "{\"steps\":[{\"name\":\"a\",\"run\":\"" + "x".repeat(300 * 1024) + "\"}],\"machine\":null}", 413,
            "body_too_large"),
        new Case("wrong content type", Kind.WRONG_CONTENT_TYPE, okBody, 415, "unsupported_media_type"),
        new Case("not JSON", Kind.EVALUATION_TOKEN, "{\"steps\":[", 400, "bad_request"),
        new Case("an unknown field", Kind.EVALUATION_TOKEN, "{\"steps\":[],\"machines\":null}", 400, "bad_request"),
        new Case("steps not a list", Kind.EVALUATION_TOKEN, "{\"steps\":{\"build\":\"make\"}}", 400, "bad_request"),
        new Case("a step with an unknown field", Kind.EVALUATION_TOKEN,
            "{\"steps\":[{\"name\":\"a\",\"run\":\"x\",\"timeout\":3}]}", 400, "bad_request"),
        new Case("no steps", Kind.EVALUATION_TOKEN, "{\"machine\":null}", 422, "invalid_evaluation"),
        new Case("empty steps", Kind.EVALUATION_TOKEN, "{\"steps\":[],\"machine\":null}", 422, "invalid_evaluation"),
        new Case("a step name with a control character", Kind.EVALUATION_TOKEN,
            "{\"steps\":[{\"name\":\"run\\ttests\",\"run\":\"x\"}]}", 422, "invalid_evaluation"),
        new Case("duplicate step names", Kind.EVALUATION_TOKEN,
            "{\"steps\":[{\"name\":\"a\",\"run\":\"x\"},{\"name\":\"a\",\"run\":\"y\"}]}", 422, "invalid_evaluation"),
        new Case("run and command", Kind.EVALUATION_TOKEN,
            "{\"steps\":[{\"name\":\"a\",\"run\":\"x\",\"command\":[\"y\"]}]}", 422, "invalid_evaluation"),
        new Case("a null step", Kind.EVALUATION_TOKEN, "{\"steps\":[{\"name\":\"a\",\"run\":\"x\"},null]}", 422,
            "invalid_evaluation"),
        new Case("a drvPath that is no derivation", Kind.EVALUATION_TOKEN,
            "{\"steps\":[{\"name\":\"a\",\"run\":\"x\"}],\"machine\":{\"drvPath\":\"/etc/passwd\","
                + "\"system\":\"x86_64-linux\"}}", 422, "invalid_evaluation"),
        new Case("a system that is no Linux", Kind.EVALUATION_TOKEN,
            "{\"steps\":[{\"name\":\"a\",\"run\":\"x\"}],\"machine\":{\"drvPath\":"
                + "\"/nix/store/7lk0y9rlzhfdr1459v3aaljbvzkcxhql-x.drv\",\"system\":\"x86_64-darwin\"}}", 422,
            "invalid_evaluation"),
        new Case("a nixVersion that is no version", Kind.EVALUATION_TOKEN,
            "{\"steps\":[{\"name\":\"a\",\"run\":\"x\"}],\"nixVersion\":\"2.26.3\\nforged\"}", 422,
            "invalid_evaluation"),
        new Case("a machine both evaluated and skipped", Kind.EVALUATION_TOKEN,
            "{\"steps\":[{\"name\":\"a\",\"run\":\"x\"}],\"machineSkipped\":true,\"machine\":{\"drvPath\":"
                + "\"/nix/store/7lk0y9rlzhfdr1459v3aaljbvzkcxhql-x.drv\",\"system\":\"x86_64-linux\"}}", 422,
            "invalid_evaluation"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusals")
  void aRefusedEvaluationChangesNothing(Case c) {
    Job j = nixJob();
    // the job's step token is recorded before the snapshot: recording it is the operator's write, not the request's
    String stepToken = c.kind() == Kind.STEP_TOKEN ? h.withStepToken(j).token() : null;
    String before = h.snapshot(j);
    HttpResponse<String> r = switch (c.kind()) {
      case EVALUATION_TOKEN -> post(j, c.body());
      case STEP_TOKEN -> h.post(stepToken, path(j), c.body());
      case UNKNOWN_TOKEN -> h.post(h.unknownEvaluationToken(), path(j), c.body());
      case OTHER_JOBS_TOKEN -> h.post(nixJob().token(), path(j), c.body());
      case WRONG_CONTENT_TYPE -> h.send(h.request(path(j)).header("Content-Type", "text/plain")
          .header("Authorization", "Bearer " + j.token()).POST(BodyPublishers.ofString(c.body())).build());
    };
    assertThat(r.statusCode()).as(r.body()).isEqualTo(c.status());
    assertThat(error(r).error()).isEqualTo(c.error());
    assertThat(h.snapshot(j)).as("nothing changed").isEqualTo(before);
  }

  static List<String[]> badNames() {
    String longName = "é".repeat(101);
    return List.of(
        new String[] {"a control character", "Check\u0007hello",
            "steps[1].name: 'Check\\u0007hello' is not a step name: control character U+0007 at character 6"},
        new String[] {"a newline", "two\nlines",
            "steps[1].name: 'two\\u000Alines' is not a step name: control character U+000A at character 4"},
        new String[] {"a C1 control character", "next\u0085line",
            "steps[1].name: 'next\\u0085line' is not a step name: control character U+0085 at character 5"},
        new String[] {"a trailing space", "Check hello ",
            "steps[1].name: 'Check hello ' is not a step name: ends with a space (U+0020)"},
        new String[] {"over 100 characters", longName, "steps[1].name: '" + "é".repeat(64)
            + "'… (101 characters) is not a step name: more than 100 characters (101)"},
        new String[] {"a duplicate", "ok", "steps[1].name: duplicate step name 'ok' (also steps[0])"});
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badNames")
  void aBadStepNameIsRefusedNamingTheFieldQuotedBoundedAndChangesNothing(String what, String name, String message) {
    Job j = nixJob();
    String before = h.snapshot(j);
    HttpResponse<String> r = post(j, Harness.json(Map.of("steps", List.of(Map.of("name", "ok", "run", "x"),
        Map.of("name", name, "run", "x")))));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    assertThat(error(r).error()).isEqualTo("invalid_evaluation");
    assertThat(error(r).message()).isEqualTo(message);
    assertThat(h.snapshot(j)).as("nothing changed").isEqualTo(before);
  }

  @Test
  void displayNamesAreRecordedAsWrittenAndTheAgentReportsThemByIndex() {
    Job j = nixJob();
    List<String> names = List.of("Check hello", "This step fails", "Build / test", "100% ünïcödé ✓ 🚀", "a%2Fb");
    String body = Harness.json(Map.of("steps", names.stream().map(n -> Map.of("name", n, "run", "true")).toList()));
    HttpResponse<String> r = post(j, body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(h.job(j).getStatus().evaluation.steps).extracting(s -> s.name).containsExactlyElementsOf(names);
    assertThat(h.job(j).getStatus().steps).extracting(s -> s.name).containsExactlyElementsOf(names);

    // the URL names the step by its index; the name travels in the JSON body and must match exactly
    Job agent = h.withStepToken(j);
    for (int i = 0; i < names.size(); i++) {
      h.runStep(agent, i, names.get(i), List.of(("out " + i + "\n").getBytes(StandardCharsets.UTF_8)), 0);
    }
    assertThat(h.job(j).getStatus().steps).extracting(s -> s.name, s -> s.state, s -> s.outputTail)
        .containsExactly(IntStream.range(0, names.size())
            .mapToObj(i -> org.assertj.core.groups.Tuple.tuple(names.get(i), State.Succeeded, "out " + i + "\n"))
            .toArray(org.assertj.core.groups.Tuple[]::new));
  }

  @Test
  void aStartedReportWithAnotherNameIsRefusedQuotingItBounded() {
    Job j = nixJob();
    assertThat(post(j, "{\"steps\":[{\"name\":\"Check hello\",\"run\":\"x\"}]}").statusCode()).isEqualTo(200);
    Job agent = h.withStepToken(j);
    String before = h.snapshot(j);
    HttpResponse<String> r = h.post(agent.token(), agent.path(0, "started"),
        Harness.startedJson("Check\rhello" + "x".repeat(10_000), "2026-11-25T10:01:00Z"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    assertThat(error(r).message()).isEqualTo("step 0 is named 'Check hello', not 'Check\\u000Dhello"
        + "x".repeat(53) + "'… (10011 characters)");
    assertThat(h.snapshot(j)).isEqualTo(before);
  }

  @Test
  void anEvaluationTokenCannotReportSteps() {
    Job j = nixJob();
    assertThat(post(j, SEED).statusCode()).isEqualTo(200);
    String before = h.snapshot(j);
    HttpResponse<String> r = h.post(j.token(), j.path(0, "started"), Harness.startedJson("build",
        "2026-11-25T10:01:00Z"));
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(error(r).message()).contains("not a token of another purpose");
    assertThat(h.snapshot(j)).isEqualTo(before);
  }

  @Test
  void theTokenIsDeadOnceTheJobHasEndedOrIsGone() {
    Job ended = nixJob();
    h.finishJob(ended, Conditions.FALSE, "Cancelled");
    HttpResponse<String> r = post(ended, SEED);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(error(r).error()).isEqualTo(ReportWriter.TOKEN_REVOKED);
    assertThat(h.job(ended).getStatus().evaluation).isNull();

    Job gone = nixJob();
    h.client.resources(NixekJob.class).inNamespace(gone.namespace()).withName(gone.name()).delete();
    assertThat(post(gone, SEED).statusCode()).isEqualTo(401);
  }

  @Test
  void aJobWithExplicitStepsHasNothingToEvaluate() {
    Job explicit = h.createJob(NS, "explicit-" + NAMES.incrementAndGet(), "build");
    String token = h.unknownEvaluationToken();
    h.recordToken(explicit.namespace(), explicit.name(), token, JobTokens.Purpose.EVALUATION);
    String before = h.snapshot(explicit);
    HttpResponse<String> r = h.post(token, ReportPaths.evaluation(explicit.namespace(), explicit.name()), SEED);
    assertThat(r.statusCode()).isEqualTo(409);
    assertThat(h.snapshot(explicit)).isEqualTo(before);
  }

  @Test
  void noEvaluationTokenReachesTheLogs() {
    Job j = nixJob();
    post(j, SEED);
    post(j, SEED);
    post(j, "{\"steps\":[{\"name\":\"" + j.token() + "\",\"run\":\"x\"}]}");
    h.post(j.token(), j.path(0, "started"), Harness.startedJson("build", "2026-11-25T10:01:00Z"));
    h.post(j.token(), ReportPaths.evaluation(NS, "someone-else"), SEED);
    List<String> lines = CapturingAppender.lines();
    assertThat(lines).anyMatch(l -> l.contains("evaluation for"));
    for (String token : h.tokensSeen) {
      assertThat(lines).noneMatch(l -> l.contains(token.substring(6)));
    }
  }

  private static ReportError error(HttpResponse<String> r) {
    try {
      return Json.mapper().readValue(r.body(), ReportError.class);
    } catch (Exception e) {
      throw new AssertionError("not a ReportError: " + r.body(), e);
    }
  }
}
