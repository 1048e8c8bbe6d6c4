package dev.nixek.ci.testing.kube;

import java.util.List;

/**
 * The outcome of running a command line tool (kubectl, helm) to completion.
 *
 * @param command the command line that ran
 * @param exitCode its exit code (-1 when it was killed after a timeout)
 * @param stdout everything it wrote to standard output
 * @param stderr everything it wrote to standard error
 */
public record CommandResult(List<String> command, int exitCode, String stdout, String stderr) {

    public CommandResult {
        command = List.copyOf(command);
    }

    /** True when the exit code is 0. */
    public boolean ok() {
        return exitCode == 0;
    }

    /** This result when the exit code is 0; otherwise an {@link IllegalStateException} with stdout and stderr. */
    public CommandResult orThrow() {
        if (!ok()) {
            throw new IllegalStateException(describe());
        }
        return this;
    }

    /** One human readable paragraph: command, exit code, output. */
    public String describe() {
        return String.join(" ", command) + " exited " + exitCode
                + (stdout.isBlank() ? "" : "\n--- stdout\n" + stdout.strip())
                + (stderr.isBlank() ? "" : "\n--- stderr\n" + stderr.strip());
    }
}
