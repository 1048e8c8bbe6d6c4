package dev.nixek.ci.operator.machine.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.operator.machine.LaunchRequest;
import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineState;
import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local provider with real processes: a shell script plays the agent and leaves a child behind. */
class LocalMachineProviderTest {
  // the "agent": records its arguments, starts a grandchild, and waits
  private static final List<String> AGENT = List.of("/bin/sh", "-c",
      "echo \"$@\" > args; sleep 600 & echo $! > child.pid; wait", "fake-agent");

  @TempDir
  Path state;
  private final List<LocalMachineProvider> providers = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    providers.forEach(p -> p.list().forEach(m -> p.terminate(m.id())));
  }

  @Test
  void launchRunsTheAgentWithAPrivateConfigAndTerminateKillsItsTree() throws Exception {
    LocalMachineProvider p = provider("cluster-a");
    Machine m = p.launch(request("uid-1", "nixek-uid-1-1"));
    assertThat(m.state()).isEqualTo(MachineState.RUNNING);
    Path dir = state.resolve(m.id());
    Path config = dir.resolve("config.json");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(config))).isEqualTo("rw-------");
    AgentConfig read = Json.mapper().readValue(config.toFile(), AgentConfig.class);
    assertThat(read.token()).isEqualTo("nxkjt_secret");
    assertThat(read.steps()).extracting(AgentStep::name).containsExactly("build");
    await().untilAsserted(() -> assertThat(dir.resolve("child.pid")).exists());
    await().untilAsserted(() -> assertThat(Files.readString(dir.resolve("args")))
        .contains("--config " + config).contains("--work-dir " + dir.resolve("work")));
    long child = Long.parseLong(Files.readString(dir.resolve("child.pid")).trim());
    assertThat(ProcessHandle.of(child)).hasValueSatisfying(h -> assertThat(h.isAlive()).isTrue());

    p.terminate(m.id());
    assertThat(p.describe(m.id())).hasValueSatisfying(x -> assertThat(x.state()).isEqualTo(MachineState.TERMINATED));
    await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
    assertThat(config).as("the token does not outlive the machine").doesNotExist();
    p.terminate(m.id()); // idempotent
  }

  @Test
  void aReplayedLaunchFindsTheSameMachine() throws Exception {
    LocalMachineProvider p = provider("cluster-a");
    Machine first = p.launch(request("uid-2", "nixek-uid-2-1"));
    Machine again = p.launch(request("uid-2", "nixek-uid-2-1"));
    assertThat(again.id()).isEqualTo(first.id());
    assertThat(p.list()).hasSize(1);
    assertThat(p.findByLaunchToken("nixek-uid-2-1")).map(Machine::id).contains(first.id());
    assertThat(p.findByLaunchToken("nixek-uid-2-2")).isEmpty();
  }

  @Test
  void aRestartedOperatorFindsItsRunningMachinesAgain() throws Exception {
    Machine m = provider("cluster-a").launch(request("uid-3", "nixek-uid-3-1"));
    LocalMachineProvider afterRestart = provider("cluster-a");
    assertThat(afterRestart.describe(m.id())).hasValueSatisfying(x -> {
      assertThat(x.state()).isEqualTo(MachineState.RUNNING);
      assertThat(x.jobUid()).isEqualTo("uid-3");
    });
    afterRestart.terminate(m.id());
    assertThat(afterRestart.describe(m.id()).get().state()).isEqualTo(MachineState.TERMINATED);
    assertThat(provider("cluster-b").list()).as("another cluster's machines are not ours").isEmpty();
  }

  @Test
  void anAgentThatExitsIsATerminatedMachine() throws Exception {
    LocalMachineProvider p = new LocalMachineProvider(state, List.of("/bin/sh", "-c", "exit 7", "x"), "c", Clock.systemUTC());
    providers.add(p);
    Machine m = p.launch(request("uid-4", "nixek-uid-4-1"));
    await().untilAsserted(() -> assertThat(p.describe(m.id()).get().state()).isEqualTo(MachineState.TERMINATED));
    assertThat(p.describe(m.id()).get().stateReason()).isEqualTo("the agent exited with code 7");
  }

  @Test
  void anAgentWhoseReportsWereRefusedSaysSo() throws Exception {
    LocalMachineProvider p = new LocalMachineProvider(state, List.of("/bin/sh", "-c", "exit 4", "x"), "c", Clock.systemUTC());
    providers.add(p);
    Machine m = p.launch(request("uid-5", "nixek-uid-5-1"));
    await().untilAsserted(() -> assertThat(p.describe(m.id()).get().state()).isEqualTo(MachineState.TERMINATED));
    assertThat(p.describe(m.id()).get().stateReason())
        .startsWith("the agent's reports were refused by the report API (409 or 422; agent exit code 4)");
  }

  private LocalMachineProvider provider(String cluster) {
    LocalMachineProvider p = new LocalMachineProvider(state, AGENT, cluster, Clock.systemUTC());
    providers.add(p);
    return p;
  }

  private static LaunchRequest request(String uid, String launchToken) {
    AgentConfig cfg = new AgentConfig(AgentConfig.VERSION, uid, "ns", "job", "http://127.0.0.1:1", "nxkjt_secret",
        List.of(new AgentStep("build", "true", null, null, null)), false);
    return new LaunchRequest(uid, "ns", "job", launchToken, null, null, cfg);
  }
}
