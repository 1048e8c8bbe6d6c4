package dev.nixek.ci.testing.kube;


/** Why a pod's process was not started; each ends the pod's run in its own way (see {@link PodRunner}). */
final class PodStartErrors {

    private PodStartErrors() {
    }

    /** The container could not be started: terminated with exit code 128 (as containerd reports it). */
    static final class StartFailure extends Exception {
        private static final long serialVersionUID = 1L;
        final String reason;

        StartFailure(String reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    /** A ConfigMap, Secret or key is missing (and not optional): the pod waits for it. */
    static final class MissingSource extends Exception {
        private static final long serialVersionUID = 1L;
        final String reason;

        MissingSource(String reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    /**
     * The container cannot be created as the pod asks (e.g. {@code runAsNonRoot} with a root user): the pod stays
     * Pending with the container waiting for this reason, as a kubelet leaves it. Nothing here can change that (the
     * pod's security context is immutable), so the test kubelet does not retry.
     */
    static final class ConfigError extends Exception {
        private static final long serialVersionUID = 1L;
        final String reason;

        ConfigError(String reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    /** A stop (deletion, or the kubelet closing) came before the process started. */
    static final class Stopped extends Exception {
        private static final long serialVersionUID = 1L;
    }
}
