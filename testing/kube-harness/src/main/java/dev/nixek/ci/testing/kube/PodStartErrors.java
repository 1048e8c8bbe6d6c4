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

    /** A stop (deletion, or the kubelet closing) came before the process started. */
    static final class Stopped extends Exception {
        private static final long serialVersionUID = 1L;
    }
}
