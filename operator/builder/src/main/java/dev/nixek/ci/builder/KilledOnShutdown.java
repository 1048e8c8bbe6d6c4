package dev.nixek.ci.builder;

import java.io.IOException;

/**
 * A child process that ending the JVM takes with it (pod deletion sends SIGTERM: a build or an evaluation must not
 * go on in the background). The shutdown hook is in place before the process starts: a signal between the two would
 * otherwise find no hook, and adding one during shutdown throws, leaving the child orphaned and its output unread.
 */
final class KilledOnShutdown implements AutoCloseable {
  private final Thread hook;
  private Process process;
  private boolean killed;

  private KilledOnShutdown(String name) {
    this.hook = new Thread(this::kill, name);
  }

  /** Starts {@code pb}'s process with its killer hook; {@code what} names it in errors. */
  static KilledOnShutdown start(ProcessBuilder pb, String name, String what) throws BuilderException {
    KilledOnShutdown child = new KilledOnShutdown(name);
    try {
      Runtime.getRuntime().addShutdownHook(child.hook);
    } catch (IllegalStateException shuttingDown) {
      throw BuilderException.build(what + " not started: the builder is shutting down");
    }
    try {
      child.launch(pb);
    } catch (IOException e) {
      child.close();
      throw BuilderException.build("cannot start " + what + ": " + e.getMessage(), e);
    } catch (BuilderException e) {
      child.close();
      throw e;
    }
    return child;
  }

  Process process() {
    return process;
  }

  /** Kills the child and its descendants (SIGTERM). */
  void destroyTree() {
    Process p;
    synchronized (this) {
      p = process;
    }
    if (p != null) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
    }
  }

  /** Removes the hook: the child has ended. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or about to: nothing to undo
    }
  }

  private synchronized void launch(ProcessBuilder pb) throws IOException, BuilderException {
    if (killed) {
      throw BuilderException.build("not started: the builder is shutting down");
    }
    process = pb.start();
  }

  private void kill() {
    synchronized (this) {
      killed = true;
    }
    destroyTree();
  }
}
