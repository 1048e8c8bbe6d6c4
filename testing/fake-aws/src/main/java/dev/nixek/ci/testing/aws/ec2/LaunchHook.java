package dev.nixek.ci.testing.aws.ec2;

/**
 * Boots the "guest" of a fake instance. Called once per instance, off the request thread, when the instance
 * reaches {@code running}. The guest powers itself off with {@link LaunchedInstance#powerOff()} (the same as
 * {@link FakeEc2#instanceShutdownByGuest(String)}).
 */
@FunctionalInterface
public interface LaunchHook {

    Machine launch(LaunchedInstance instance) throws Exception;
}
