package dev.nixek.ci.testing.aws.ec2;

import dev.nixek.ci.testing.aws.ec2.Ec2Model.BlockDevice;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Image;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Inst;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Snap;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Volume;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What tests reach past the API for: resources seeded directly (a snapshot, an image on it) and read-only views of
 * every table. Called with the {@link Ec2State} lock held.
 */
final class SeedsAndViews {

    private final Ec2State state;

    SeedsAndViews(Ec2State state) {
        this.state = state;
    }

    String seedSnapshot(int sizeGiB, Map<String, String> tags) {
        Snap s = new Snap();
        s.id = Ec2State.newId("snap-");
        s.description = "seeded by FakeEc2";
        s.volumeSize = sizeGiB;
        s.startTime = state.now();
        s.createdAt = s.startTime;
        s.tags.putAll(tags);
        state.snapshots.put(s.id, s);
        return s.id;
    }

    String seedImage(String name, String snapshotId, Map<String, String> tags) {
        for (Image other : state.images.values()) {
            if (other.name.equals(name)) {
                throw new IllegalArgumentException("AMI name " + name + " is already in use by " + other.id);
            }
        }
        Snap s = state.snapshots.get(snapshotId);
        if (s == null) {
            throw new IllegalArgumentException("no snapshot " + snapshotId);
        }
        Image img = new Image();
        img.id = Ec2State.newId("ami-");
        img.name = name;
        img.architecture = "x86_64";
        img.rootDeviceName = "/dev/xvda";
        img.virtualizationType = "hvm";
        img.enaSupport = true;
        img.bootMode = "uefi";
        img.imdsSupport = "v2.0";
        img.createdAt = state.now();
        BlockDevice bd = new BlockDevice();
        bd.deviceName = "/dev/xvda";
        bd.snapshotId = snapshotId;
        bd.volumeSize = s.volumeSize;
        bd.volumeType = "gp3";
        bd.deleteOnTermination = true;
        img.mappings.add(bd);
        img.tags.putAll(tags);
        state.images.put(img.id, img);
        return img.id;
    }

    List<Views.InstanceView> instanceViews() {
        return state.instances.values().stream().map(this::view).toList();
    }

    private Views.InstanceView view(Inst i) {
        Map<String, Map<String, String>> vt = new LinkedHashMap<>();
        for (Volume v : i.volumes) {
            vt.put(v.id, Map.copyOf(v.tags));
        }
        return new Views.InstanceView(i.id, i.reservation.id, i.state, i.imageId, i.instanceType, i.userData,
                Map.copyOf(i.tags), i.clientToken, i.shutdownBehavior, i.httpTokens, i.hopLimit, i.httpEndpoint,
                i.subnetId, i.securityGroupIds, i.iamProfileArn, i.spot, vt, i.stateReasonCode, i.launchTime,
                i.guestRunning);
    }

    List<Views.ImageView> imageViews() {
        return state.images.values().stream().map(img -> new Views.ImageView(img.id, img.name, img.state,
                Map.copyOf(img.tags), img.mappings.stream().map(bd -> bd.snapshotId).filter(Objects::nonNull).toList(),
                img.rootDeviceName, img.architecture, img.enaSupport, img.bootMode, img.imdsSupport)).toList();
    }

    List<Views.SnapshotView> snapshotViews() {
        return state.snapshots.values().stream().map(s -> new Views.SnapshotView(s.id, s.state, s.volumeSize,
                Map.copyOf(s.tags), s.importTaskId, s.description)).toList();
    }

    List<Views.ImportTaskView> importTaskViews() {
        return state.tasks.values().stream().map(t -> new Views.ImportTaskView(t.id, t.status, t.statusMessage,
                t.snapshotId, t.bucket, t.key, t.format, t.roleName, Map.copyOf(t.tags), t.polls)).toList();
    }

    Map<String, Map<String, String>> otherResourceTags() {
        return state.otherTags.entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> Map.copyOf(e.getValue())));
    }
}
