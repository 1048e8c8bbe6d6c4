package dev.nixek.ci.testing.aws.ec2;

import dev.nixek.ci.testing.aws.ec2.Ec2Filters.Filter;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.BlockDevice;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Image;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Snap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The image and snapshot actions: RegisterImage (name, architecture and block device checks), DescribeImages,
 * DeregisterImage (optionally deleting its snapshots), DescribeSnapshots and DeleteSnapshot (refused while an image
 * uses the snapshot). Called with the {@link Ec2State} lock held.
 */
final class ImageActions {

    private static final Pattern AMI_NAME = Pattern.compile("[A-Za-z0-9()\\[\\] ./\\-'@_]{3,128}");

    private final Ec2State state;

    ImageActions(Ec2State state) {
        this.state = state;
    }

    String registerImage(QueryParams p, String requestId) {
        String name = p.require("Name");
        if (!AMI_NAME.matcher(name).matches()) {
            throw Ec2Exception.client("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, "
                    + "and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'");
        }
        for (Image other : state.images.values()) {
            if (other.name.equals(name)) {
                throw Ec2Exception.client("InvalidAMIName.Duplicate",
                        "AMI name " + name + " is already in use by AMI " + other.id);
            }
        }
        String arch = p.get("Architecture", "i386");
        if (!Set.of("i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac").contains(arch)) {
            throw Ec2Exception.client("InvalidParameterValue", "Value (" + arch + ") for parameter architecture is invalid.");
        }
        String bootMode = p.get("BootMode");
        if (bootMode != null && !Set.of("legacy-bios", "uefi", "uefi-preferred").contains(bootMode)) {
            throw Ec2Exception.client("InvalidParameterValue", "Value (" + bootMode + ") for parameter BootMode is invalid.");
        }
        String imds = p.get("ImdsSupport");
        if (imds != null && !imds.equals("v2.0")) {
            throw Ec2Exception.client("InvalidParameterValue", "Value (" + imds + ") for parameter ImdsSupport is invalid.");
        }
        String virt = p.get("VirtualizationType", "hvm");
        if (!virt.equals("hvm") && !virt.equals("paravirtual")) {
            throw Ec2Exception.client("InvalidParameterValue",
                    "Value (" + virt + ") for parameter virtualizationType is invalid.");
        }
        Map<String, Map<String, String>> tagSpecs = Ec2Tags.tagSpecs(p, "RegisterImage", Set.of("image"));
        Image img = new Image();
        img.id = Ec2State.newId("ami-");
        img.name = name;
        img.description = p.get("Description");
        img.architecture = arch;
        img.rootDeviceName = p.get("RootDeviceName");
        img.virtualizationType = virt;
        img.enaSupport = p.getBool("EnaSupport");
        img.bootMode = bootMode;
        img.imdsSupport = imds;
        img.tpmSupport = p.get("TpmSupport");
        img.sriovNetSupport = p.get("SriovNetSupport");
        img.imageLocation = p.get("ImageLocation");
        img.createdAt = state.now();
        for (QueryParams m : p.structs("BlockDeviceMapping")) {
            BlockDevice bd = new BlockDevice();
            bd.deviceName = m.require("DeviceName");
            bd.snapshotId = m.get("Ebs.SnapshotId");
            bd.volumeSize = m.getInt("Ebs.VolumeSize");
            bd.volumeType = m.get("Ebs.VolumeType");
            bd.deleteOnTermination = m.getBool("Ebs.DeleteOnTermination");
            bd.encrypted = m.getBool("Ebs.Encrypted");
            bd.iops = m.getInt("Ebs.Iops");
            bd.throughput = m.getInt("Ebs.Throughput");
            bd.noDevice = m.get("NoDevice");
            bd.virtualName = m.get("VirtualName");
            if (bd.snapshotId != null) {
                Snap s = state.requireSnapshot(bd.snapshotId, "RegisterImage");
                if (!"completed".equals(s.state)) {
                    throw Ec2Exception.client("IncorrectState", "Snapshot " + s.id + " is not completed");
                }
                if (bd.volumeSize != null && bd.volumeSize < s.volumeSize) {
                    throw Ec2Exception.client("InvalidBlockDeviceMapping", "Volume of size " + bd.volumeSize
                            + "GB is smaller than snapshot '" + s.id + "', expect size >= " + s.volumeSize + "GB");
                }
                if (bd.volumeSize == null) {
                    bd.volumeSize = s.volumeSize;
                }
                if (bd.encrypted == null) {
                    bd.encrypted = s.encrypted;
                }
            }
            if (bd.volumeType != null && !Set.of("standard", "io1", "io2", "gp2", "gp3", "sc1", "st1")
                    .contains(bd.volumeType)) {
                throw Ec2Exception.client("InvalidParameterValue",
                        "Value (" + bd.volumeType + ") for parameter volumeType is invalid.");
            }
            img.mappings.add(bd);
        }
        if (img.imageLocation == null) {
            if (img.rootDeviceName == null) {
                throw Ec2Exception.client("MissingParameter",
                        "The request must contain the parameter RootDeviceName (or ImageLocation)");
            }
            boolean rootMapped = img.mappings.stream().anyMatch(bd -> sameDevice(bd.deviceName, img.rootDeviceName)
                    && bd.snapshotId != null);
            if (!rootMapped) {
                throw Ec2Exception.client("InvalidBlockDeviceMapping",
                        "The root device name " + img.rootDeviceName + " has no EBS snapshot in the block device mappings");
            }
        }
        img.tags.putAll(tagSpecs.getOrDefault("image", Map.of()));
        state.images.put(img.id, img);
        return Xml.response("RegisterImage", requestId).el("imageId", img.id).finish();
    }

    private static boolean sameDevice(String a, String b) {
        return a.replaceFirst("^/dev/", "").equals(b.replaceFirst("^/dev/", ""));
    }

    private static final Set<String> IMAGE_FILTERS = Set.of("tag-key", "tag-value", "name", "image-id", "state",
            "owner-id", "architecture", "description", "root-device-name", "is-public", "image-type",
            "virtualization-type", "block-device-mapping.snapshot-id");

    String describeImages(QueryParams p, String requestId) {
        List<String> ids = p.list("ImageId");
        List<String> owners = p.list("Owner");
        List<Filter> filters = Ec2Filters.filters(p, "Filter", IMAGE_FILTERS);
        List<Image> candidates = new ArrayList<>();
        if (ids.isEmpty()) {
            state.images.values().stream().filter(i -> !state.hidden(i.createdAt, "DescribeImages")).forEach(candidates::add);
        } else {
            List<String> missing = new ArrayList<>();
            for (String id : ids) {
                try {
                    candidates.add(state.requireImage(id, "DescribeImages"));
                } catch (Ec2Exception e) {
                    if (!"InvalidAMIID.NotFound".equals(e.code)) {
                        throw e;
                    }
                    missing.add(id);
                }
            }
            if (!missing.isEmpty()) {
                throw Ec2Exception.client("InvalidAMIID.NotFound",
                        "The image id '[" + String.join(", ", missing) + "]' does not exist");
            }
        }
        if (!owners.isEmpty() && !owners.contains("self") && !owners.contains(state.cfg.accountId)) {
            candidates.clear();
        }
        List<Image> matched = Ec2Filters.applyFilters(candidates, filters, i -> i.tags, this::imageField);
        Xml x = Xml.response("DescribeImages", requestId).open("imagesSet");
        for (Image img : matched) {
            imageItem(x, img);
        }
        return x.close().finish();
    }

    private Boolean imageField(Image i, Filter f) {
        return switch (f.name()) {
            case "name" -> f.matches(i.name);
            case "image-id" -> f.matches(i.id);
            case "state" -> f.matches(i.state);
            case "owner-id" -> f.matches(state.cfg.accountId);
            case "architecture" -> f.matches(i.architecture);
            case "description" -> f.matches(i.description);
            case "root-device-name" -> f.matches(i.rootDeviceName);
            case "is-public" -> f.matches("false");
            case "image-type" -> f.matches("machine");
            case "virtualization-type" -> f.matches(i.virtualizationType);
            case "block-device-mapping.snapshot-id" ->
                    f.matchesAny(i.mappings.stream().map(bd -> bd.snapshotId).filter(Objects::nonNull).toList());
            default -> false;
        };
    }

    private void imageItem(Xml x, Image img) {
        x.open("item")
                .el("imageId", img.id)
                .el("imageLocation", img.imageLocation != null ? img.imageLocation : state.cfg.accountId + "/" + img.name)
                .el("imageState", img.state)
                .el("imageOwnerId", state.cfg.accountId)
                .el("creationDate", Xml.time(img.createdAt))
                .el("isPublic", "false")
                .el("architecture", img.architecture)
                .el("imageType", "machine")
                .el("platformDetails", "Linux/UNIX")
                .el("usageOperation", "RunInstances")
                .el("name", img.name)
                .el("description", img.description)
                .el("rootDeviceType", "ebs")
                .el("rootDeviceName", img.rootDeviceName)
                .open("blockDeviceMapping");
        for (BlockDevice bd : img.mappings) {
            x.open("item").el("deviceName", bd.deviceName).el("virtualName", bd.virtualName).el("noDevice", bd.noDevice);
            if (bd.snapshotId != null || bd.volumeSize != null) {
                x.open("ebs")
                        .el("snapshotId", bd.snapshotId)
                        .el("volumeSize", bd.volumeSize)
                        .el("deleteOnTermination", String.valueOf(bd.deleteOnTermination == null || bd.deleteOnTermination))
                        .el("volumeType", bd.volumeType != null ? bd.volumeType : "gp2")
                        .el("iops", bd.iops)
                        .el("throughput", bd.throughput)
                        .el("encrypted", String.valueOf(Boolean.TRUE.equals(bd.encrypted)))
                        .close();
            }
            x.close();
        }
        x.close()
                .el("virtualizationType", img.virtualizationType)
                .tagSet(img.tags)
                .el("hypervisor", "xen")
                .el("enaSupport", Xml.bool(img.enaSupport))
                .el("sriovNetSupport", img.sriovNetSupport)
                .el("bootMode", img.bootMode)
                .el("tpmSupport", img.tpmSupport)
                .el("imdsSupport", img.imdsSupport)
                .close();
    }

    String deregisterImage(QueryParams p, String requestId) {
        Image img = state.requireImage(p.require("ImageId"), "DeregisterImage");
        state.images.remove(img.id);
        Xml x = Xml.response("DeregisterImage", requestId).el("return", "true");
        if (Boolean.TRUE.equals(p.getBool("DeleteAssociatedSnapshots"))) {
            x.open("deleteSnapshotResultSet");
            for (BlockDevice bd : img.mappings) {
                if (bd.snapshotId == null) {
                    continue;
                }
                String user = imageUsing(bd.snapshotId);
                if (user == null && state.snapshots.remove(bd.snapshotId) != null) {
                    x.open("item").el("snapshotId", bd.snapshotId).el("returnCode", "success").close();
                } else {
                    x.open("item").el("snapshotId", bd.snapshotId).el("returnCode", "error-generic").close();
                }
            }
            x.close();
        }
        return x.finish();
    }

    private String imageUsing(String snapshotId) {
        for (Image img : state.images.values()) {
            for (BlockDevice bd : img.mappings) {
                if (snapshotId.equals(bd.snapshotId)) {
                    return img.id;
                }
            }
        }
        return null;
    }

    // state.snapshots

    String deleteSnapshot(QueryParams p, String requestId) {
        Snap s = state.requireSnapshot(p.require("SnapshotId"), "DeleteSnapshot");
        String user = imageUsing(s.id);
        if (user != null) {
            throw Ec2Exception.client("InvalidSnapshot.InUse", "The snapshot " + s.id + " is currently in use by " + user);
        }
        state.snapshots.remove(s.id);
        return Xml.response("DeleteSnapshot", requestId).el("return", "true").finish();
    }

    private static final Set<String> SNAPSHOT_FILTERS = Set.of("tag-key", "tag-value", "status", "snapshot-id",
            "owner-id", "description", "volume-size", "encrypted", "volume-id", "progress");

    String describeSnapshots(QueryParams p, String requestId) {
        List<String> ids = p.list("SnapshotId");
        List<String> owners = p.list("Owner");
        List<Filter> filters = Ec2Filters.filters(p, "Filter", SNAPSHOT_FILTERS);
        List<Snap> candidates = new ArrayList<>();
        if (ids.isEmpty()) {
            state.snapshots.values().stream().filter(s -> !state.hidden(s.createdAt, "DescribeSnapshots")).forEach(candidates::add);
        } else {
            for (String id : ids) {
                candidates.add(state.requireSnapshot(id, "DescribeSnapshots"));
            }
        }
        if (!owners.isEmpty() && !owners.contains("self") && !owners.contains(state.cfg.accountId)) {
            candidates.clear();
        }
        List<Snap> matched = Ec2Filters.applyFilters(candidates, filters, s -> s.tags, (s, f) -> switch (f.name()) {
            case "status" -> f.matches(s.state);
            case "snapshot-id" -> f.matches(s.id);
            case "owner-id" -> f.matches(state.cfg.accountId);
            case "description" -> f.matches(s.description);
            case "volume-size" -> f.matches(String.valueOf(s.volumeSize));
            case "encrypted" -> f.matches(String.valueOf(s.encrypted));
            case "volume-id" -> f.matches("vol-ffffffff");
            case "progress" -> f.matches(s.progress);
            default -> false;
        });
        Xml x = Xml.response("DescribeSnapshots", requestId).open("snapshotSet");
        for (Snap s : matched) {
            x.open("item")
                    .el("snapshotId", s.id)
                    .el("volumeId", "vol-ffffffff")
                    .el("status", s.state)
                    .el("startTime", s.startTime)
                    .el("progress", s.progress)
                    .el("ownerId", state.cfg.accountId)
                    .el("volumeSize", s.volumeSize)
                    .el("description", s.description)
                    .el("encrypted", String.valueOf(s.encrypted))
                    .el("kmsKeyId", s.kmsKeyId)
                    .el("storageTier", "standard")
                    .tagSet(s.tags)
                    .close();
        }
        return x.close().finish();
    }
}
