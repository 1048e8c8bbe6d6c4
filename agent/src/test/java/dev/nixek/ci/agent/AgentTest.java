package dev.nixek.ci.agent;

import static dev.nixek.ci.agent.TestJobs.command;
import static dev.nixek.ci.agent.TestJobs.config;
import static dev.nixek.ci.agent.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nixek.ci.agent.FakeReportApi.Arrival;
import dev.nixek.ci.agent.FakeReportApi.Fault;
import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.ReportPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent in this JVM against a fake report API on a real HTTP server. */
class AgentTest {
  private static final Duration JOB = Duration.ofSeconds(60);

  @TempDir
  Path dir;
  String token;
  FakeReportApi api;

  @BeforeEach
  void startApi() throws IOException {
    token = TestJobs.token();
    api = new FakeReportApi(token, TestJobs.NAMESPACE, TestJobs.NAME);
  }

  @AfterEach
  void stopApi() {
    api.close();
  }

  private CompletableFuture<Integer> start(AgentStep... steps) throws IOException {
    return TestJobs.start(dir, config(api.url(), token, steps));
  }

  private static int exitCode(CompletableFuture<Integer> agent) throws Exception {
    return agent.get(JOB.toSeconds(), TimeUnit.SECONDS);
  }

  private Path work(String file) {
    return dir.resolve("work").resolve(file);
  }

  @Test
  void threeStepsRunInOrderInOneWorkDirAndEveryByteIsReported() throws Exception {
    var agent = start(
        run("build", "echo hello > shared.txt; echo to-stdout; echo to-stderr >&2; printf 'no newline'"),
        command("read", null, "cat", "shared.txt"),
        new AgentStep("env", "echo \"$GREETING\"; echo \"${PATH:+agent PATH kept}\"", null,
            Map.of("GREETING", "hi there"), null));

    assertThat(exitCode(agent)).isZero();
    assertThat(api.violations()).isEmpty();
    assertThat(api.stepCount()).isEqualTo(3);
    assertThat(List.of(api.started(0).name(), api.started(1).name(), api.started(2).name()))
        .containsExactly("build", "read", "env");
    assertThat(api.output(0)).isEqualTo("to-stdout\nto-stderr\nno newline");
    assertThat(api.output(1)).isEqualTo("hello\n");
    assertThat(api.output(2)).isEqualTo("hi there\nagent PATH kept\n");
    for (int i = 0; i < 3; i++) {
      assertThat(api.finished(i).exitCode()).isZero();
      assertThat(api.finished(i).timedOut()).isFalse();
      assertThat(api.finished(i).outputBytes()).isEqualTo(api.output(i).getBytes(StandardCharsets.UTF_8).length);
    }
    // strictly in order: started, chunks, finished, next step (the fake rejects anything else as a violation);
    // how many chunks a step's output takes depends on timing, so runs of chunks count as one here
    List<String> order = new java.util.ArrayList<>();
    for (var a : api.arrivals()) {
      String k = a.step() + ":" + a.kind();
      if (order.isEmpty() || !(k.endsWith(":output") && k.equals(order.get(order.size() - 1)))) {
        order.add(k);
      }
    }
    assertThat(order).containsExactly(
        "0:started", "0:output", "0:finished", "1:started", "1:output", "1:finished",
        "2:started", "2:output", "2:finished");
  }

  @Test
  void displayNamesAreReportedAsWrittenAndNothingIsNamedAfterThem() throws Exception {
    var agent = start(run("Check hello", "echo hello"), run("../Build / 100% ünïcödé ✓", "echo ok"));

    assertThat(exitCode(agent)).isZero();
    assertThat(api.violations()).isEmpty();
    assertThat(List.of(api.started(0).name(), api.started(1).name()))
        .containsExactly("Check hello", "../Build / 100% ünïcödé ✓");
    assertThat(api.output(0)).isEqualTo("hello\n");
    assertThat(api.output(1)).isEqualTo("ok\n");
    // reports, spool files and threads are named by the step's index (docs/architecture.md#step-names-and-identifiers)
    try (var files = java.nio.file.Files.walk(dir)) {
      assertThat(files.map(f -> dir.relativize(f).toString()))
          .noneMatch(f -> f.contains("Build") || f.contains("Check") || f.contains("%"));
    }
    assertThat(api.arrivals()).extracting(a -> a.step()).containsOnly(0, 1);
  }

  @Test
  void aFailingStepEndsTheJobAndLaterStepsDoNotRun() throws Exception {
    var agent = start(run("fails", "echo before; exit 7"), run("never", "touch ran-second"));

    assertThat(exitCode(agent)).isEqualTo(1);
    assertThat(api.violations()).isEmpty();
    assertThat(api.stepCount()).isEqualTo(1);
    assertThat(api.finished(0).exitCode()).isEqualTo(7);
    assertThat(api.output(0)).isEqualTo("before\n");
    assertThat(work("ran-second")).doesNotExist();
    // a failed step is told by its own report: no agent-ended report
    assertThat(api.ended()).isEmpty();
  }

  @Test
  void aStepThatCannotStartFailsWithExitCode127() throws Exception {
    var agent = start(command("missing", null, "/nonexistent/tool", "--flag"));

    assertThat(exitCode(agent)).isEqualTo(1);
    assertThat(api.finished(0).exitCode()).isEqualTo(127);
    assertThat(api.output(0)).contains("cannot start /nonexistent/tool");
    assertThat(api.violations()).isEmpty();
  }

  @Test
  void aTimedOutStepHasItsWholeProcessTreeKilled() throws Exception {
    var agent = start(
        run("hangs", "sleep 1000 & echo $! > child.pid; (sleep 1000 & echo $! > orphan.pid); echo waiting; wait", 1),
        run("never", "touch ran-second"));

    assertThat(exitCode(agent)).isEqualTo(1);
    assertThat(api.finished(0).timedOut()).isTrue();
    assertThat(api.finished(0).exitCode()).isEqualTo(StepRunner.TIMEOUT_EXIT_CODE);
    assertThat(api.output(0)).isEqualTo("waiting\n");
    assertThat(gone(work("child.pid"))).as("background child").isTrue();
    assertThat(gone(work("orphan.pid"))).as("orphan reparented to init").isTrue();
    assertThat(work("ran-second")).doesNotExist();
    assertThat(api.violations()).isEmpty();
  }

  @Test
  void aTimedOutStepThatIgnoresSigtermGetsSigkill() throws Exception {
    var agent = start(run("stubborn", "trap '' TERM; sleep 1000 & echo $! > child.pid; echo $$ > shell.pid; wait", 1));

    assertThat(exitCode(agent)).isEqualTo(1);
    assertThat(api.finished(0).timedOut()).isTrue();
    assertThat(gone(work("child.pid"))).isTrue();
    assertThat(gone(work("shell.pid"))).isTrue();
  }

  @Test
  void outputIsStreamedWhileTheStepRuns() throws Exception {
    var agent = start(run("slow", "for i in $(seq 1 15); do echo line-$i; sleep 0.2; done"));

    assertThat(exitCode(agent)).isZero();
    long finished = api.finishedArrival(0);
    List<Long> chunks = api.chunkArrivals(0);
    // buffered until the end, the 3 s of output would be one chunk; streamed, it is one per flush interval
    assertThat(chunks.stream().filter(t -> t < finished).count()).isGreaterThanOrEqualTo(3);
    assertThat(api.output(0)).isEqualTo(lines(1, 15));
    assertThat(api.violations()).isEmpty();
  }

  @Test
  void theApiDownForFiveSecondsMidStepLosesNothing() throws Exception {
    var agent = start(
        run("chatty", "for i in $(seq 1 40); do echo line-$i; sleep 0.2; done"),
        run("after", "echo second step"));
    await().atMost(JOB).until(() -> api.chunks(0) >= 2);

    api.stop();
    Thread.sleep(5000); // the outage itself, not an assertion
    api.start();

    assertThat(exitCode(agent)).isZero();
    assertThat(api.violations()).isEmpty();
    assertThat(api.output(0)).isEqualTo(lines(1, 40));
    assertThat(api.finished(0).outputBytes()).isEqualTo(lines(1, 40).length());
    assertThat(api.output(1)).isEqualTo("second step\n");
    assertThat(api.finished(1).exitCode()).isZero();
  }

  @Test
  void stepsKeepRunningWhileTheApiIsUnreachableAndEverythingIsDeliveredLater() throws Exception {
    api.stop();
    var agent = start(run("one", "echo one; touch one.done"), run("two", "echo two; touch two.done"));
    await().atMost(JOB).until(() -> Files.exists(work("two.done")));
    assertThat(agent).isNotDone();

    api.start();

    assertThat(exitCode(agent)).isZero();
    assertThat(api.violations()).isEmpty();
    assertThat(api.output(0)).isEqualTo("one\n");
    assertThat(api.output(1)).isEqualTo("two\n");
  }

  @Test
  void aReportWhoseAnswerIsLostIsReplayedByteForByte() throws Exception {
    api.inject(a -> a.step() == 0 && a.kind().equals(ReportPaths.OUTPUT) && a.seq() == 1, Fault.APPLY_THEN_503);
    api.inject(a -> a.step() == 0 && a.kind().equals(ReportPaths.FINISHED), Fault.APPLY_THEN_DROP);
    api.inject(a -> a.step() == 1 && a.kind().equals(ReportPaths.STARTED), Fault.APPLY_THEN_503);
    api.inject(a -> a.step() == 1 && a.kind().equals(ReportPaths.OUTPUT), Fault.FAIL_503);
    var agent = start(run("numbers", "seq 1 20000"), run("more", "echo more"));

    assertThat(exitCode(agent)).isZero();
    assertThat(api.violations()).isEmpty();
    assertReplayed(0, ReportPaths.OUTPUT, 1);
    assertReplayed(0, ReportPaths.FINISHED, -1);
    assertReplayed(1, ReportPaths.STARTED, -1);
    assertThat(api.output(0)).isEqualTo(numbers(1, 20000));
    assertThat(api.chunks(0)).isGreaterThan(2);
    assertThat(api.output(1)).isEqualTo("more\n");
  }

  private void assertReplayed(int step, String kind, long seq) {
    List<Arrival> sent = api.arrivals().stream()
        .filter(a -> a.step() == step && a.kind().equals(kind) && a.seq() == seq).toList();
    assertThat(sent).as("step %d %s %d", step, kind, seq).hasSize(2);
    assertThat(sent.get(1).bodySha256()).isEqualTo(sent.get(0).bodySha256());
    assertThat(sent.get(1).result()).isEqualTo("duplicate");
  }

  @Test
  void aConflictIsLoggedNotRetriedAndStopsTheJobWithExit4() throws Exception {
    api.inject(a -> a.kind().equals(ReportPaths.OUTPUT) && a.seq() == 0, Fault.CONFLICT_409);
    try (LogCapture logs = new LogCapture()) {
      var agent = start(run("numbers", "seq 1 5000; sleep 1000"), run("never", "touch ran-second"));

      assertThat(exitCode(agent)).isEqualTo(Agent.EXIT_REPORT_REFUSED);
      assertThat(logs.text()).contains("refused report " + ReportPaths.step(TestJobs.NAMESPACE, TestJobs.NAME, 0,
          ReportPaths.OUTPUT) + " with 409 (conflict: injected conflict)").doesNotContain("every report delivered");
    }
    assertThat(api.arrivals()).filteredOn(a -> a.kind().equals(ReportPaths.OUTPUT) && a.seq() == 0).hasSize(1);
    assertThat(work("ran-second")).doesNotExist();
    assertThat(api.violations()).isEmpty();
    // the operator of an EC2 job sees only a terminated instance: the agent says why in status.agentEnded
    assertThat(api.ended()).singleElement().satisfies(e -> {
      assertThat(e.exitCode()).isEqualTo(Agent.EXIT_REPORT_REFUSED);
      assertThat(e.reason()).contains(ReportPaths.step(TestJobs.NAMESPACE, TestJobs.NAME, 0, ReportPaths.OUTPUT))
          .contains("409").contains("injected conflict");
      assertThat(java.time.Instant.parse(e.time())).isNotNull();
    });
  }

  @Test
  void aRefusedFinalReportIsNotCalledDeliveredAndExits4() throws Exception {
    api.inject(a -> a.kind().equals(ReportPaths.FINISHED) && a.step() == 1, Fault.REFUSE_409);
    try (LogCapture logs = new LogCapture()) {
      var agent = start(run("first", "echo one"), run("last", "echo two"));

      assertThat(exitCode(agent)).isEqualTo(4);
      assertThat(logs.text())
          .contains("the report API refused report " + ReportPaths.step(TestJobs.NAMESPACE, TestJobs.NAME, 1,
              ReportPaths.FINISHED) + " with 409")
          .contains("job " + TestJobs.NAMESPACE + "/" + TestJobs.NAME + " done: the report API refused a report")
          .doesNotContain("every report delivered");
    }
    assertThat(api.arrivals()).filteredOn(a -> a.kind().equals(ReportPaths.FINISHED) && a.step() == 1).hasSize(1);
    assertThat(api.finished(0).exitCode()).isZero();
    assertThat(api.violations()).isEmpty();
    assertThat(api.ended()).singleElement().satisfies(e -> assertThat(e.reason()).contains(
        ReportPaths.step(TestJobs.NAMESPACE, TestJobs.NAME, 1, ReportPaths.FINISHED)));
  }

  @Test
  void aRefusedJobKillsTheRunningStepAndExits3() throws Exception {
    var agent = start(
        run("forever", "echo $$ > shell.pid; sleep 1000 & echo $! > child.pid; while true; do echo tick; sleep 0.2; done"),
        run("never", "touch ran-second"));
    await().atMost(JOB).until(() -> api.chunks(0) >= 1);

    api.refuse();

    assertThat(exitCode(agent)).isEqualTo(3);
    assertThat(gone(work("shell.pid"))).isTrue();
    assertThat(gone(work("child.pid"))).isTrue();
    assertThat(work("ran-second")).doesNotExist();
    assertThat(api.violations()).isEmpty();
  }

  @Test
  void aTokenTheReportApiDoesNotKnowYetIsRetriedUntilItsRecordArrives() throws Exception {
    // the local provider starts the agent at once: the report API's watch may not have the token record yet
    api.unknownTokenFor(3);
    var agent = start(run("hello", "echo hello"));

    assertThat(exitCode(agent)).isZero();
    assertThat(api.arrivals()).extracting(FakeReportApi.Arrival::status).startsWith(401, 401, 401, 200);
    assertThat(api.finished(0).exitCode()).isZero();
    assertThat(api.violations()).isEmpty();
  }

  @Test
  void aTokenRefusedAfterAReportWasAcceptedEndsTheJobAtOnce() throws Exception {
    var agent = start(run("ticking", "while true; do echo tick; sleep 0.2; done"), run("never", "touch ran-second"));
    await().atMost(JOB).until(() -> api.chunks(0) >= 1);

    api.unknownTokenFor(1_000);

    assertThat(exitCode(agent)).isEqualTo(3);
    assertThat(work("ran-second")).doesNotExist();
    // no retries: the first 401 after an accepted report is final
    assertThat(api.arrivals()).filteredOn(a -> a.status() == 401).hasSize(1);
  }

  @Test
  void reportsThatCannotBeDeliveredBeforeTheDrainTimeoutExit3() throws Exception {
    api.stop();
    var agent = TestJobs.start(dir, config(api.url(), token, run("ran", "touch ran")), "--drain-timeout-seconds", "2");

    assertThat(exitCode(agent)).isEqualTo(3);
    assertThat(work("ran")).exists();
  }

  @Test
  void largeOutputStreamsThroughTheSpool() throws Exception {
    int n = 3_000_000; // 22.9 MB
    var agent = start(run("big", "seq 1 " + n));

    assertThat(exitCode(agent)).isZero();
    assertThat(api.violations()).isEmpty();
    MessageDigest expected = FakeReportApi.sha256();
    long bytes = 0;
    for (int i = 1; i <= n; i++) {
      byte[] line = (i + "\n").getBytes(StandardCharsets.US_ASCII);
      expected.update(line);
      bytes += line.length;
    }
    assertThat(api.outputBytes(0)).isEqualTo(bytes);
    assertThat(api.finished(0).outputBytes()).isEqualTo(bytes);
    assertThat(api.outputSha256(0)).isEqualTo(HexFormat.of().formatHex(expected.digest()));
    assertThat(api.chunks(0)).isGreaterThanOrEqualTo((int) (bytes / (16 * 1024)));
  }

  @Test
  void processesThatKeepTheOutputOpenEndWithTheirStep() throws Exception {
    var agent = start(run("leaves-child", "sleep 1000 & echo $! > bg.pid; echo started"));

    assertThat(exitCode(agent)).isZero();
    assertThat(api.output(0)).isEqualTo("started\n");
    assertThat(gone(work("bg.pid"))).isTrue();
  }

  @Test
  void detachedBackgroundProcessesServeLaterStepsAndEndWithTheJob() throws Exception {
    var agent = start(
        run("service", "sleep 1000 > /dev/null 2>&1 & echo $! > bg.pid"),
        run("uses-it", "kill -0 \"$(cat bg.pid)\" && echo still running"));

    assertThat(exitCode(agent)).isZero();
    assertThat(api.output(1)).isEqualTo("still running\n");
    assertThat(gone(work("bg.pid"))).isTrue();
  }

  @Test
  void aJobWithoutStepsSucceedsWithoutReports() throws Exception {
    assertThat(exitCode(start())).isZero();
    assertThat(api.arrivals()).isEmpty();
  }

  @Test
  void theTokenNeverAppearsInTheLog() throws Exception {
    api.inject(a -> a.kind().equals(ReportPaths.STARTED), Fault.FAIL_503);
    api.inject(a -> a.kind().equals(ReportPaths.OUTPUT), Fault.APPLY_THEN_DROP);
    api.inject(a -> a.kind().equals(ReportPaths.FINISHED), Fault.CONFLICT_409);
    String logged;
    try (LogCapture logs = new LogCapture()) {
      // the finished report is refused (409): exit 4, and the refusal is logged without the token
      assertThat(exitCode(start(run("fails", "echo out; exit 3")))).isEqualTo(Agent.EXIT_REPORT_REFUSED);
      // a config error that quotes the document would show the token: the token sits right at the error
      Path bad = TestJobs.writeText(dir, "{\"version\":\"" + AgentConfig.VERSION
          + "\",\"token\":" + token + "}");
      assertThat(Main.run(new AtomicReference<>(), "--config", bad.toString()))
          .isEqualTo(2);
      Path wrongType = TestJobs.writeText(dir, "{\"version\":\"x\",\"token\":\"" + token + "\",\"steps\":\""
          + token + "\"}");
      assertThat(Main.run(new AtomicReference<>(), "--config", wrongType.toString()))
          .isEqualTo(2);
      logged = logs.text();
    }
    assertThat(logged).contains("POST /v1/jobs/ci/hello-world/steps/0/started -> 503")
        .contains("config is not valid JSON").contains("config does not match");
    assertThat(logged).doesNotContain(token).doesNotContain(token.substring(4, 20));
  }

  @Test
  void stepsRunAsAnUnprivilegedUser() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")),
        "switching users needs root");
    var agent = TestJobs.start(dir, config(api.url(), token,
            run("who", "id -un; id -u; echo \"$HOME $USER\"; touch mine"),
            command("cannot", null, "cat", "/proc/1/environ")),
        "--run-as", "nobody");

    assertThat(exitCode(agent)).isEqualTo(1);
    String uid = new String(new ProcessBuilder("id", "-u", "nobody").start().getInputStream().readAllBytes()).trim();
    assertThat(api.output(0)).isEqualTo("nobody\n" + uid + "\n/nonexistent nobody\n");
    assertThat(Files.getOwner(work("mine")).getName()).isEqualTo("nobody");
    assertThat(api.finished(1).exitCode()).isNotZero();
    assertThat(api.output(1)).contains("Permission denied");
  }

  static String lines(int from, int to) {
    StringBuilder sb = new StringBuilder();
    for (int i = from; i <= to; i++) {
      sb.append("line-").append(i).append('\n');
    }
    return sb.toString();
  }

  static String numbers(int from, int to) {
    StringBuilder sb = new StringBuilder();
    for (int i = from; i <= to; i++) {
      sb.append(i).append('\n');
    }
    return sb.toString();
  }

  /** Whether the process whose pid the step wrote to {@code pidFile} is gone (dead or a zombie). */
  static boolean gone(Path pidFile) throws IOException {
    assertThat(pidFile).exists();
    long pid = Long.parseLong(Files.readString(pidFile).trim());
    return ProcessHandle.of(pid).map(ProcessTree::isGone).orElse(true);
  }
}
