package dev.nixek.ci.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ProcessTreeTest {
  /** A shell that starts a child and an orphan (a double fork: init adopts it), and prints both pids. */
  private static Process tree(String marker) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c",
        "sleep 1000 & echo $!; (sleep 1000 > /dev/null 2>&1 & echo $!); exec sleep 1000");
    pb.environment().put(ProcessTree.MARKER, marker);
    return pb.start();
  }

  private static ProcessHandle[] pids(Process p) throws Exception {
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
    ProcessHandle child = ProcessHandle.of(Long.parseLong(out.readLine().trim())).orElseThrow();
    ProcessHandle orphan = ProcessHandle.of(Long.parseLong(out.readLine().trim())).orElseThrow();
    // orphaned once its subshell has exited
    await().atMost(Duration.ofSeconds(10)).until(() -> p.toHandle().descendants().noneMatch(orphan::equals));
    return new ProcessHandle[] {child, orphan};
  }

  @Test
  void killsChildrenAndOrphansThatCarryTheMarker() throws Exception {
    String marker = "test-" + UUID.randomUUID();
    Process p = tree(marker);
    ProcessHandle[] kids = pids(p);

    int killed = ProcessTree.kill(Optional.of(p.toHandle()), marker::equals, Duration.ofSeconds(1));

    assertThat(killed).isEqualTo(3);
    assertThat(ProcessTree.isGone(p.toHandle())).isTrue();
    assertThat(ProcessTree.isGone(kids[0])).isTrue();
    assertThat(ProcessTree.isGone(kids[1])).isTrue();
  }

  @Test
  void parentLinksAloneMissTheOrphan() throws Exception {
    String marker = "test-" + UUID.randomUUID();
    Process p = tree(marker);
    ProcessHandle[] kids = pids(p);
    try {
      ProcessTree.kill(Optional.of(p.toHandle()), m -> false, Duration.ofSeconds(1));

      assertThat(ProcessTree.isGone(kids[0])).isTrue();
      assertThat(ProcessTree.isGone(kids[1])).isFalse();
      assertThat(ProcessTree.markedPids(marker::equals)).contains(kids[1].pid());
    } finally {
      kids[1].destroyForcibly();
    }
  }
}
