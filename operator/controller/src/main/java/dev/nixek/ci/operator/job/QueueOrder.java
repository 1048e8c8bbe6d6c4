package dev.nixek.ci.operator.job;

import static dev.nixek.ci.common.status.Conditions.SUCCEEDED;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.common.status.Conditions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The queue of one namespace, as pure rules over a snapshot of its jobs: which hold a slot (a machine launched and
 * not finished), which wait for one, in which order, and whether a given job may launch now.
 */
final class QueueOrder {
  /** Reasons of a job that is not ready to launch yet, so waits for something other than a slot. */
  private static final Set<ConditionReason> NOT_READY = EnumSet.of(ConditionReason.Evaluating,
      ConditionReason.EvaluationPending, ConditionReason.WaitingForImage);

  /** Creation order: creationTimestamp (whole seconds), then name, so jobs created in one second start by name. */
  static final Comparator<NixekJob> CREATION = Comparator
      .comparing((NixekJob j) -> created(j))
      .thenComparing(j -> j.getMetadata().getName());

  private QueueOrder() {}

  /** What a job ready to launch may do now. */
  sealed interface Decision {
    /** Launch. */
    record Admit() implements Decision {}

    /** Wait: {@code position} (from 1) of {@code of} waiting, with {@code running} of {@code limit} slots taken. */
    record Wait(int position, int of, int running, int limit) implements Decision {
      String message(String namespace) {
        // not the running count: it changes with every launch, and each change would be a status write
        return "position " + position + " of " + of + " in namespace " + namespace + " (at most " + limit
            + " running at once)";
      }
    }
  }

  /**
   * Whether {@code job}, ready to launch, may launch now under {@code limit}, given its namespace's jobs and the jobs
   * admitted but not yet seen with a launch token ({@code admitted}, by UID).
   */
  static Decision decide(NixekJob job, Collection<NixekJob> namespaceJobs, Set<String> admitted, int limit) {
    return decide(job, namespaceJobs, admitted, Set.of(), limit);
  }

  /**
   * As above; {@code freed} (by UID) are jobs known to have given their slot back (their machine is terminated)
   * although the snapshot may not show it yet: they hold none.
   */
  static Decision decide(NixekJob job, Collection<NixekJob> namespaceJobs, Set<String> admitted, Set<String> freed,
      int limit) {
    String uid = job.getMetadata().getUid();
    Set<String> slots = new HashSet<>(admitted);
    for (NixekJob j : namespaceJobs) {
      if (holdsSlot(j) && !freed.contains(j.getMetadata().getUid())) {
        slots.add(j.getMetadata().getUid());
      }
    }
    if (slots.contains(uid)) {
      return new Decision.Admit();
    }
    List<NixekJob> waiting = new ArrayList<>();
    for (NixekJob j : namespaceJobs) {
      String u = j.getMetadata().getUid();
      if (!u.equals(uid) && !slots.contains(u) && waitsForSlot(j)) {
        waiting.add(j);
      }
    }
    waiting.add(job);
    waiting.sort(CREATION);
    int index = waiting.indexOf(job);
    int free = Math.max(0, limit - slots.size());
    if (index < free) {
      return new Decision.Admit();
    }
    return new Decision.Wait(index - free + 1, waiting.size() - free, slots.size(), limit);
  }

  /** A job whose machine was (or may have been) launched and is not known to be gone: it counts against the limit. */
  static boolean holdsSlot(NixekJob j) {
    NixekJobStatus s = j.getStatus();
    if (s == null || s.launchToken == null) {
      return false;
    }
    return !(Conditions.isTerminal(s) && Boolean.TRUE.equals(s.machineTerminated));
  }

  /** A live job with nothing left to wait for but a slot (or not seen since it became so). */
  static boolean waitsForSlot(NixekJob j) {
    NixekJobStatus s = j.getStatus();
    if (j.getMetadata().getDeletionTimestamp() != null || j.getSpec() == null
        || Boolean.TRUE.equals(j.getSpec().cancel)) {
      return false;
    }
    if (s == null) {
      return true;
    }
    if (s.launchToken != null || Conditions.isTerminal(s)) {
      return false;
    }
    return Conditions.find(s.conditions, SUCCEEDED)
        .map(c -> NOT_READY.stream().noneMatch(r -> Conditions.hasReason(c, r))).orElse(true);
  }

  private static Instant created(NixekJob j) {
    try {
      String t = j.getMetadata().getCreationTimestamp();
      return t == null ? Instant.MAX : Instant.parse(t);
    } catch (DateTimeParseException e) {
      return Instant.MAX;
    }
  }
}
