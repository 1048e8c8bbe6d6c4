package dev.nixek.ci.agent;

import dev.nixek.ci.protocol.StepFinished;
import java.util.ArrayList;
import java.util.List;

/**
 * The hand-over from the step runner to the reporter: steps in the order they started, each with its spool and,
 * once known, its result. Only a few fields per step live here; the output itself is on disk.
 */
final class ReportQueue {
  private final List<Entry> steps = new ArrayList<>();
  private boolean closed;

  /** One started step. */
  static final class Entry {
    final int index;
    final String name;
    final String startTime;
    final OutputSpool spool;
    private StepFinished finished;
    private boolean startedDelivered;
    private boolean finishedDelivered;

    Entry(int index, String name, String startTime, OutputSpool spool) {
      this.index = index;
      this.name = name;
      this.startTime = startTime;
      this.spool = spool;
    }

    synchronized void finish(StepFinished result) {
      finished = result;
      notifyAll();
    }

    /** The reporter delivered this step's {@code started}: reports about the running step may follow. */
    synchronized void markStarted() {
      startedDelivered = true;
      notifyAll();
    }

    /** Waits up to {@code millis} for {@link #markStarted}; whether it happened. */
    synchronized boolean awaitStarted(long millis) throws InterruptedException {
      long end = System.nanoTime() + millis * 1_000_000;
      while (!startedDelivered) {
        long left = (end - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          return false;
        }
        wait(left);
      }
      return true;
    }

    /** The reporter delivered this step's {@code finished}: the report API has applied the step's end. */
    synchronized void markFinished() {
      finishedDelivered = true;
      notifyAll();
    }

    /** Waits up to {@code millis} for {@link #markFinished}; whether it happened. */
    synchronized boolean awaitFinishedDelivered(long millis) throws InterruptedException {
      long end = System.nanoTime() + millis * 1_000_000;
      while (!finishedDelivered) {
        long left = (end - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          return false;
        }
        wait(left);
      }
      return true;
    }

    synchronized StepFinished awaitFinished() throws InterruptedException {
      while (finished == null) {
        wait();
      }
      return finished;
    }
  }

  synchronized void add(Entry entry) {
    if (closed || entry.index != steps.size()) {
      throw new IllegalStateException("step " + entry.index + " added out of order");
    }
    steps.add(entry);
    notifyAll();
  }

  /** No step will be added any more. */
  synchronized void close() {
    closed = true;
    notifyAll();
  }

  /** Step {@code index}, waiting for it to start; null if the job ended before it. */
  synchronized Entry await(int index) throws InterruptedException {
    while (steps.size() <= index && !closed) {
      wait();
    }
    return index < steps.size() ? steps.get(index) : null;
  }
}
