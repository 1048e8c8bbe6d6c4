package dev.nixek.ci.testing.aws.ec2;

/** The guest behind a fake instance, as returned by a {@link LaunchHook}. */
@FunctionalInterface
public interface Machine {

    /** Called (once, off the request thread) when the instance is terminated through the API. */
    void stop();

    /** A machine that does nothing when stopped. */
    static Machine none() {
        return () -> { };
    }
}
