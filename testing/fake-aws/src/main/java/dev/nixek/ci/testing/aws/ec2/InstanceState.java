package dev.nixek.ci.testing.aws.ec2;

/** EC2 instance states with their documented codes. */
public enum InstanceState {
    PENDING(0, "pending"),
    RUNNING(16, "running"),
    SHUTTING_DOWN(32, "shutting-down"),
    TERMINATED(48, "terminated"),
    STOPPING(64, "stopping"),
    STOPPED(80, "stopped");

    private final int code;
    private final String label;

    InstanceState(int code, String label) {
        this.code = code;
        this.label = label;
    }

    public int code() {
        return code;
    }

    /** The API name, e.g. {@code shutting-down}. */
    public String label() {
        return label;
    }
}
