package dev.nixek.ci.demo;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.cli.LogClient;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Prints each step's output as {@code [step] | line} by following its log on the report API's logs endpoint, with
 * the kubectl plugin's client and the demo user's token: the same way a user reads it. One follower per started
 * step; a step's result line waits for its follower to end (the endpoint ends it when the step ends), so lines stay
 * in order. If the report API has no log store, it says so once and {@link JobFollower} shows the status tails.
 */
final class StepLogs implements JobFollower.StepOutput {
  private final PrintStream out;
  private final LogClient client;
  private final Map<Integer, Thread> followers = new HashMap<>();
  private volatile boolean live = true;

  StepLogs(PrintStream out, LogClient client) {
    this.out = out;
    this.client = client;
  }

  @Override
  public boolean live() {
    return live;
  }

  @Override
  public void progress(NixekJob job, int index, String name) {
    if (followers.containsKey(index) || job.getStatus() == null || job.getStatus().logs == null) {
      return;
    }
    String url = job.getStatus().logs.url;
    Thread t = new Thread(() -> follow(url, index, name), "demo-log-" + index);
    t.setDaemon(true);
    followers.put(index, t);
    t.start();
  }

  @Override
  public void ended(NixekJob job, int index, String name) {
    progress(job, index, name);
    try {
      followers.get(index).join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void follow(String url, int index, String name) {
    try (Lines lines = new Lines(out, name)) {
      client.read(url, index, 0, true, lines);
    } catch (LogClient.LogException e) {
      if (e.status() == 503 && e.getMessage().contains("no log store")) {
        if (live) {
          live = false;
          out.println("==> the report API has no log store; showing the status tails instead");
        }
      } else {
        out.printf("[%s] (log not readable: %s)%n", name, e.getMessage());
      }
    } catch (Exception e) {
      out.printf("[%s] (log not readable: %s)%n", name, e);
    }
  }

  /** Bytes to {@code [step] | line}, a line at a time (UTF-8 decoded whole, so no character is split). */
  static final class Lines extends OutputStream {
    private final PrintStream out;
    private final String name;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    Lines(PrintStream out, String name) {
      this.out = out;
      this.name = name;
    }

    @Override
    public void write(int b) {
      if (b == '\n') {
        emit();
      } else {
        line.write(b);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) {
      for (int i = off; i < off + len; i++) {
        write(b[i]);
      }
    }

    private void emit() {
      String text = line.toString(StandardCharsets.UTF_8);
      line.reset();
      if (!text.isEmpty()) {
        out.printf("[%s] | %s%n", name, text);
      }
    }

    @Override
    public void close() {
      emit();
      out.flush();
    }
  }
}
