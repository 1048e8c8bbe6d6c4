package dev.nixek.ci.testing.aws.ec2;

import java.util.Map;

/** What a {@link LaunchHook} gets about the instance it boots. */
public final class LaunchedInstance {

    private final String instanceId;
    private final String imageId;
    private final String instanceType;
    private final String userData;
    private final Map<String, String> tags;
    private final FakeEc2 ec2;

    LaunchedInstance(String instanceId, String imageId, String instanceType, String userData,
                     Map<String, String> tags, FakeEc2 ec2) {
        this.instanceId = instanceId;
        this.imageId = imageId;
        this.instanceType = instanceType;
        this.userData = userData;
        this.tags = Map.copyOf(tags);
        this.ec2 = ec2;
    }

    public String instanceId() {
        return instanceId;
    }

    public String imageId() {
        return imageId;
    }

    public String instanceType() {
        return instanceType;
    }

    /** The user data, base64-decoded and read as UTF-8; {@code null} when none was given. */
    public String userData() {
        return userData;
    }

    /** The instance's tags at the time it reached running. */
    public Map<String, String> tags() {
        return tags;
    }

    /** The guest powers itself off ({@code poweroff} in the VM): see {@link FakeEc2#instanceShutdownByGuest}. */
    public boolean powerOff() {
        return ec2.instanceShutdownByGuest(instanceId);
    }

    @Override
    public String toString() {
        return "LaunchedInstance[" + instanceId + ", tags=" + tags + "]";
    }
}
