package dev.nixek.ci.operator.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.job.QueueOrder.Decision;
import dev.nixek.ci.operator.testing.TestJobs;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The queue's rules over a snapshot of a namespace: slots, order, positions, and the in-flight admissions. */
class QueueOrderTest {
  private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");

  @Test
  void jobsStartInCreationOrderAndWaitWithTheirPosition() {
    List<NixekJob> ns = List.of(waiting("e", 4), waiting("b", 1), waiting("a", 0), waiting("d", 3), waiting("c", 2));
    // limit 2, nothing running: a and b may go, c is first in line
    assertThat(decide("a", ns, Set.of(), 2)).isEqualTo(new Decision.Admit());
    assertThat(decide("b", ns, Set.of(), 2)).isEqualTo(new Decision.Admit());
    assertThat(decide("c", ns, Set.of(), 2)).isEqualTo(new Decision.Wait(1, 3, 0, 2));
    assertThat(decide("e", ns, Set.of(), 2)).isEqualTo(new Decision.Wait(3, 3, 0, 2));
  }

  @Test
  void runningJobsTakeSlotsUntilTheirMachineIsTerminated() {
    List<NixekJob> ns = new ArrayList<>(List.of(running("r1", 0), running("r2", 1), waiting("q1", 2),
        waiting("q2", 3)));
    assertThat(decide("q1", ns, Set.of(), 2)).isEqualTo(new Decision.Wait(1, 2, 2, 2));
    assertThat(((Decision.Wait) decide("q2", ns, Set.of(), 2)).message("ci"))
        .isEqualTo("position 2 of 2 in namespace ci (at most 2 running at once)");
    // r1 ended but its machine is not confirmed terminated yet: still a slot
    NixekJob ended = ended("r1", 0, false);
    ns.set(0, ended);
    assertThat(decide("q1", ns, Set.of(), 2)).isInstanceOf(Decision.Wait.class);
    ns.set(0, ended("r1", 0, true));
    assertThat(decide("q1", ns, Set.of(), 2)).isEqualTo(new Decision.Admit());
    assertThat(decide("q2", ns, Set.of(), 2)).isEqualTo(new Decision.Wait(1, 1, 1, 2));
  }

  @Test
  void aSlotFreedBeforeTheCacheShowsItIsFreeForTheJobsItWakes() {
    // r1 ended and its machine was terminated in the reconcile that wakes q1; the cache still shows it unterminated
    List<NixekJob> ns = List.of(ended("r1", 0, false), running("r2", 1), waiting("q1", 2), waiting("q2", 3));
    NixekJob q1 = ns.get(2);
    assertThat(QueueOrder.decide(q1, ns, Set.of(), Set.of(), 2)).isInstanceOf(Decision.Wait.class);
    assertThat(QueueOrder.decide(q1, ns, Set.of(), Set.of(uid("r1")), 2)).isEqualTo(new Decision.Admit());
    assertThat(QueueOrder.decide(ns.get(3), ns, Set.of(uid("q1")), Set.of(uid("r1")), 2))
        .isEqualTo(new Decision.Wait(1, 1, 2, 2));
  }

  @Test
  void anAdmissionTheCacheDoesNotShowYetTakesTheLastSlot() {
    List<NixekJob> ns = List.of(running("r1", 0), waiting("q1", 1), waiting("q2", 2));
    assertThat(decide("q1", ns, Set.of(), 2)).isEqualTo(new Decision.Admit());
    // q1 admitted (its launch token not in the cache yet): q2 must not take the same slot
    assertThat(decide("q2", ns, Set.of(uid("q1")), 2)).isEqualTo(new Decision.Wait(1, 1, 2, 2));
    // and q1, asked again, is still admitted
    assertThat(decide("q1", ns, Set.of(uid("q1")), 2)).isEqualTo(new Decision.Admit());
  }

  @Test
  void jobsNotReadyYetDoNotHoldUpTheQueue() {
    NixekJob evaluating = withReason(waiting("a", 0), ConditionReason.Evaluating);
    NixekJob image = withReason(waiting("b", 1), ConditionReason.WaitingForImage);
    NixekJob cancelled = waiting("c", 2);
    cancelled.getSpec().cancel = true;
    List<NixekJob> ns = List.of(evaluating, image, cancelled, running("r", 3), waiting("d", 4));
    assertThat(decide("d", ns, Set.of(), 2)).isEqualTo(new Decision.Admit());
  }

  @Test
  void jobsCreatedInTheSameSecondGoByName() {
    List<NixekJob> ns = List.of(waiting("job-b", 0), waiting("job-a", 0));
    assertThat(decide("job-a", ns, Set.of(), 1)).isEqualTo(new Decision.Admit());
    assertThat(decide("job-b", ns, Set.of(), 1)).isEqualTo(new Decision.Wait(1, 1, 0, 1));
  }

  @Test
  void aLowerLimitThanRunningQueuesEveryone() {
    List<NixekJob> ns = List.of(running("r1", 0), running("r2", 1), running("r3", 2), waiting("q", 3));
    assertThat(decide("q", ns, Set.of(), 1)).isEqualTo(new Decision.Wait(1, 1, 3, 1));
  }

  private static Decision decide(String name, List<NixekJob> ns, Set<String> admitted, int limit) {
    NixekJob job = ns.stream().filter(j -> j.getMetadata().getName().equals(name)).findFirst().orElseThrow();
    return QueueOrder.decide(job, ns, admitted, limit);
  }

  private static String uid(String name) {
    return "uid-" + name;
  }

  private static NixekJob waiting(String name, int createdSecond) {
    NixekJob j = TestJobs.job("ci", name, TestJobs.run("a", "true"));
    j.getMetadata().setUid(uid(name));
    j.getMetadata().setCreationTimestamp(T0.plusSeconds(createdSecond).toString());
    return j;
  }

  private static NixekJob withReason(NixekJob j, ConditionReason reason) {
    NixekJobStatus s = j.getStatus() == null ? new NixekJobStatus() : j.getStatus();
    s.conditions = Conditions.with(s.conditions, Conditions.SUCCEEDED, reason, "m", 1L, T0);
    j.setStatus(s);
    return j;
  }

  private static NixekJob running(String name, int createdSecond) {
    NixekJob j = withReason(waiting(name, createdSecond), ConditionReason.Running);
    j.getStatus().launchToken = "nixek-" + uid(name) + "-1";
    return j;
  }

  private static NixekJob ended(String name, int createdSecond, boolean machineTerminated) {
    NixekJob j = withReason(running(name, createdSecond), ConditionReason.Succeeded);
    j.getStatus().machineTerminated = machineTerminated ? true : null;
    return j;
  }
}
