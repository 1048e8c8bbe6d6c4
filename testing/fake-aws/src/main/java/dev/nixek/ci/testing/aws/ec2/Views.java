package dev.nixek.ci.testing.aws.ec2;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Read-only snapshots of the fake's state, for assertions (see {@link FakeEc2#instances()} etc.). */
public final class Views {

    private Views() {
    }

    /**
     * An instance as the fake holds it, including what DescribeInstances does not show (user data,
     * shutdown behaviour, volume tags).
     */
    public record InstanceView(String instanceId, String reservationId, InstanceState state, String imageId,
                               String instanceType, String userData, Map<String, String> tags, String clientToken,
                               String shutdownBehavior, String httpTokens, int httpPutResponseHopLimit,
                               String httpEndpoint, String subnetId, List<String> securityGroupIds,
                               String iamInstanceProfileArn, boolean spot, Map<String, Map<String, String>> volumeTags,
                               String stateReasonCode, Instant launchTime, boolean guestRunning) {
    }

    public record ImageView(String imageId, String name, String state, Map<String, String> tags,
                            List<String> snapshotIds, String rootDeviceName, String architecture, Boolean enaSupport,
                            String bootMode, String imdsSupport) {
    }

    public record SnapshotView(String snapshotId, String state, int volumeSizeGiB, Map<String, String> tags,
                               String importTaskId, String description) {
    }

    public record ImportTaskView(String importTaskId, String status, String statusMessage, String snapshotId,
                                 String s3Bucket, String s3Key, String format, String roleName,
                                 Map<String, String> tags, int polls) {
    }
}
