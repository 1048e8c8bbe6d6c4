package dev.nixek.ci.testing.aws.ec2;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fake's resources as mutable records: instances (with their reservation and volumes), images with their block
 * device mappings, snapshots and import tasks. Only touched while holding the {@link Ec2State} lock.
 */
final class Ec2Model {

    private Ec2Model() {
    }

    static final class Volume {
        String id;
        String deviceName;
        String snapshotId;
        int size;
        String type;
        boolean deleteOnTermination;
        boolean encrypted;
        Instant createdAt;
        boolean deleted;
        final Map<String, String> tags = new LinkedHashMap<>();
    }

    static final class Inst {
        String id;
        Resv reservation;
        String imageId;
        String instanceType;
        String architecture;
        String rootDeviceName;
        String bootMode;
        Boolean enaSupport;
        Instant launchTime;
        Instant createdAt;
        InstanceState state = InstanceState.PENDING;
        Instant stateSince;
        int polls;
        String userDataB64;
        String userData;
        final Map<String, String> tags = new LinkedHashMap<>();
        String clientToken;
        String shutdownBehavior;
        String httpTokens;
        int hopLimit;
        String httpEndpoint;
        String subnetId;
        String vpcId;
        String availabilityZone;
        List<String> securityGroupIds = List.of();
        String iamProfileArn;
        String iamProfileId;
        boolean spot;
        String spotRequestId;
        int launchIndex;
        String privateIp;
        final List<Volume> volumes = new ArrayList<>();
        String reason = "";
        String stateReasonCode;
        String stateReasonMessage;
        Instant terminatedAt;
        Machine machine;
        boolean hookDispatched;
        boolean guestRunning;
    }

    static final class Resv {
        String id;
        String clientToken;
        Map<String, String> fingerprint;
        final List<Inst> instances = new ArrayList<>();
    }

    static final class BlockDevice {
        String deviceName;
        String snapshotId;
        Integer volumeSize;
        String volumeType;
        Boolean deleteOnTermination;
        Boolean encrypted;
        Integer iops;
        Integer throughput;
        String noDevice;
        String virtualName;
    }

    static final class Image {
        String id;
        String name;
        String description;
        String architecture;
        String rootDeviceName;
        String virtualizationType;
        Boolean enaSupport;
        String bootMode;
        String imdsSupport;
        String tpmSupport;
        String sriovNetSupport;
        String imageLocation;
        Instant createdAt;
        String state = "available";
        final List<BlockDevice> mappings = new ArrayList<>();
        final Map<String, String> tags = new LinkedHashMap<>();
    }

    static final class Snap {
        String id;
        String description;
        int volumeSize;
        String state = "completed";
        String progress = "100%";
        Instant startTime;
        Instant createdAt;
        boolean encrypted;
        String kmsKeyId;
        String importTaskId;
        final Map<String, String> tags = new LinkedHashMap<>();
    }

    static final class ImportTask {
        String id;
        String description;
        String format;
        String bucket;
        String key;
        String url;
        long size;
        String roleName;
        boolean encrypted;
        String kmsKeyId;
        String clientToken;
        Map<String, String> fingerprint;
        Instant createdAt;
        int polls;
        String status = "active";
        String statusMessage = "pending";
        String progress = "0";
        String snapshotId;
        String failure;
        final Map<String, String> tags = new LinkedHashMap<>();
        final Map<String, String> snapshotTags = new LinkedHashMap<>();
    }
}
