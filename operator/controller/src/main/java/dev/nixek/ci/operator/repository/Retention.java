package dev.nixek.ci.operator.repository;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What happens to a repository's existing jobs once the heads are known, per branch or pull request (its full ref):
 * the unfinished jobs of a commit that is no longer the head are cancelled (with {@code cancelSuperseded}), and the
 * jobs of all but the newest {@code keepCommits} commits are deleted — the head's commit always counts as the newest.
 * A commit's age is its newest job's creation time. Refs that are no longer listed (a deleted branch, a closed pull
 * request) keep their jobs until the repository goes.
 */
public final class Retention {
  /** One existing job: its name, ref and commit (from its annotation and label), creation time, and state. */
  public record Job(String name, String ref, String commit, String createdAt, boolean finished, boolean cancelled) {}

  /** The jobs to cancel and to delete. */
  public record Plan(List<String> cancel, List<String> delete) {}

  private Retention() {}

  public static Plan plan(List<Job> jobs, Map<String, String> heads, int keepCommits, boolean cancelSuperseded) {
    Map<String, List<Job>> byRef = new LinkedHashMap<>();
    for (Job j : jobs) {
      byRef.computeIfAbsent(j.ref(), r -> new ArrayList<>()).add(j);
    }
    List<String> cancel = new ArrayList<>();
    List<String> delete = new ArrayList<>();
    for (Map.Entry<String, List<Job>> e : byRef.entrySet()) {
      String head = heads.get(e.getKey());
      if (head == null) {
        continue;
      }
      Set<String> kept = new LinkedHashSet<>();
      kept.add(head);
      e.getValue().stream()
          .sorted(Comparator.comparing(Job::createdAt).reversed().thenComparing(Job::name))
          .map(Job::commit)
          .forEach(c -> {
            if (kept.size() < keepCommits) {
              kept.add(c);
            }
          });
      for (Job j : e.getValue()) {
        if (!kept.contains(j.commit())) {
          delete.add(j.name());
        } else if (cancelSuperseded && !j.commit().equals(head) && !j.finished() && !j.cancelled()) {
          cancel.add(j.name());
        }
      }
    }
    return new Plan(cancel, delete);
  }
}
