package dev.nixek.ci.operator.aws;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.ArchitectureValues;
import software.amazon.awssdk.services.ec2.model.BlockDeviceMapping;
import software.amazon.awssdk.services.ec2.model.BootModeValues;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.ImdsSupportValues;
import software.amazon.awssdk.services.ec2.model.ImportSnapshotTask;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.SnapshotTaskDetail;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ec2.model.VolumeType;

/**
 * The EC2 side of a machine image, over the SDK's {@link Ec2Client} for one region: ImportSnapshot of the uploaded
 * disk image, the task's progress, RegisterImage of the snapshot, and the listing and deletion the cleaner and the
 * collector need. Every call may throw the SDK's exceptions after the SDK's own retries; callers decide.
 */
public final class ImageImporter {
  /** The root device every nixek-ci image boots from (NixOS' amazon image expects xvda). */
  public static final String ROOT_DEVICE = "/dev/xvda";
  static final String DUPLICATE_NAME = "InvalidAMIName.Duplicate";
  static final String SNAPSHOT_IN_USE = "InvalidSnapshot.InUse";

  private final Ec2Client ec2;

  public ImageImporter(Ec2Client ec2) {
    this.ec2 = ec2;
  }

  /** An ImportSnapshot call; {@code clientToken} makes it idempotent. */
  public record ImportRequest(String clientToken, String bucket, String key, String format, String roleName,
      String description, Map<String, String> tags) {}

  /** What a DescribeImportSnapshotTasks observation says. */
  public enum TaskState { ACTIVE, COMPLETED, FAILED, NOT_FOUND }

  public record ImportProgress(TaskState state, String snapshotId, String statusMessage, String progress) {}

  /** An AMI, as much of it as nixek-ci looks at. */
  public record Ami(String imageId, String name, String state, List<String> snapshotIds, Map<String, String> tags,
      Instant created) {
    public boolean available() {
      return "available".equals(state);
    }
  }

  public record Snapshot(String snapshotId, Instant startTime, Map<String, String> tags) {}

  public record ImportTask(String importTaskId, String status, String snapshotId, Map<String, String> tags) {}

  /** A RegisterImage call: the root volume from {@code snapshotId}, gp3, ENA, IMDSv2 only. */
  public record RegisterRequest(String name, String description, String architecture, String bootMode,
      String snapshotId, Integer volumeSizeGiB, Map<String, String> tags) {}

  public enum DeleteResult { DELETED, NOT_FOUND, IN_USE }

  /** Starts (or, with the same ClientToken, finds) the import task; returns its id. */
  public String startImport(ImportRequest r) {
    return ec2.importSnapshot(b -> b
        .clientToken(r.clientToken())
        .description(r.description())
        .roleName(r.roleName())
        .diskContainer(d -> d.format(r.format()).description(r.description())
            .userBucket(u -> u.s3Bucket(r.bucket()).s3Key(r.key())))
        .tagSpecifications(tagSpec(ResourceType.IMPORT_SNAPSHOT_TASK, r.tags())))
        .importTaskId();
  }

  public ImportProgress describeImport(String importTaskId) {
    List<ImportSnapshotTask> tasks;
    try {
      tasks = ec2.describeImportSnapshotTasks(b -> b.importTaskIds(importTaskId)).importSnapshotTasks();
    } catch (Ec2Exception e) {
      if (AwsErrors.isNotFound(e)) {
        return new ImportProgress(TaskState.NOT_FOUND, null, AwsErrors.describe(e), null);
      }
      throw e;
    }
    if (tasks.isEmpty() || tasks.get(0).snapshotTaskDetail() == null) {
      return new ImportProgress(TaskState.NOT_FOUND, null, null, null);
    }
    SnapshotTaskDetail d = tasks.get(0).snapshotTaskDetail();
    String status = d.status() == null ? "" : d.status().toLowerCase(Locale.ROOT);
    TaskState state = switch (status) {
      case "completed" -> d.snapshotId() == null ? TaskState.ACTIVE : TaskState.COMPLETED;
      case "deleting", "deleted", "error" -> TaskState.FAILED;
      default -> TaskState.ACTIVE;
    };
    return new ImportProgress(state, d.snapshotId(), d.statusMessage(), d.progress());
  }

  /** Adds tags (CreateTags is idempotent). */
  public void tag(String resourceId, Map<String, String> tags) {
    ec2.createTags(b -> b.resources(resourceId).tags(tags(tags)));
  }

  /** This account's AMI with {@code name}, if EC2 shows one. */
  public Optional<Ami> findByName(String name) {
    return ec2.describeImages(b -> b.owners("self").filters(filter("name", name))).images().stream()
        .map(ImageImporter::ami).findFirst();
  }

  /** Registers the image, or returns the one already registered under its name (a crash before the status write). */
  public String register(RegisterRequest r) {
    try {
      return ec2.registerImage(b -> b
          .name(r.name())
          .description(r.description())
          .architecture(ArchitectureValues.fromValue(r.architecture()))
          .virtualizationType("hvm")
          .rootDeviceName(ROOT_DEVICE)
          .blockDeviceMappings(BlockDeviceMapping.builder().deviceName(ROOT_DEVICE).ebs(e -> e
              .snapshotId(r.snapshotId()).volumeType(VolumeType.GP3).volumeSize(r.volumeSizeGiB())
              .deleteOnTermination(true)).build())
          .enaSupport(true)
          .bootMode(BootModeValues.fromValue(r.bootMode()))
          .imdsSupport(ImdsSupportValues.V2_0)
          .tagSpecifications(tagSpec(ResourceType.IMAGE, r.tags())))
          .imageId();
    } catch (Ec2Exception e) {
      if (DUPLICATE_NAME.equals(AwsErrors.code(e))) {
        return findByName(r.name()).map(Ami::imageId).orElseThrow(() -> e);
      }
      throw e;
    }
  }

  /** Deregisters; false when EC2 does not know the image (any more). */
  public boolean deregister(String imageId) {
    try {
      ec2.deregisterImage(b -> b.imageId(imageId));
      return true;
    } catch (Ec2Exception e) {
      if (AwsErrors.isNotFound(e)) {
        return false;
      }
      throw e;
    }
  }

  public DeleteResult deleteSnapshot(String snapshotId) {
    try {
      ec2.deleteSnapshot(b -> b.snapshotId(snapshotId));
      return DeleteResult.DELETED;
    } catch (Ec2Exception e) {
      if (AwsErrors.isNotFound(e)) {
        return DeleteResult.NOT_FOUND;
      }
      if (SNAPSHOT_IN_USE.equals(AwsErrors.code(e))) {
        return DeleteResult.IN_USE;
      }
      throw e;
    }
  }

  /** This account's AMIs carrying all of {@code tags}. */
  public List<Ami> listImages(Map<String, String> tags) {
    return ec2.describeImages(b -> b.owners("self").filters(tagFilters(tags))).images().stream()
        .map(ImageImporter::ami).toList();
  }

  public List<Snapshot> listSnapshots(Map<String, String> tags) {
    return ec2.describeSnapshotsPaginator(b -> b.ownerIds("self").filters(tagFilters(tags))).snapshots().stream()
        .map(s -> new Snapshot(s.snapshotId(), s.startTime(), tagMap(s.tags()))).toList();
  }

  /** One snapshot by id; empty when EC2 does not know it. */
  public Optional<Snapshot> describeSnapshot(String snapshotId) {
    try {
      return ec2.describeSnapshots(b -> b.snapshotIds(snapshotId)).snapshots().stream()
          .map(s -> new Snapshot(s.snapshotId(), s.startTime(), tagMap(s.tags()))).findFirst();
    } catch (Ec2Exception e) {
      if (AwsErrors.isNotFound(e)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  public List<ImportTask> listImportTasks(Map<String, String> tags) {
    return ec2.describeImportSnapshotTasksPaginator(b -> b.filters(tagFilters(tags))).importSnapshotTasks().stream()
        .map(t -> new ImportTask(t.importTaskId(),
            t.snapshotTaskDetail() == null ? null : t.snapshotTaskDetail().status(),
            t.snapshotTaskDetail() == null ? null : t.snapshotTaskDetail().snapshotId(), tagMap(t.tags())))
        .toList();
  }

  private static Ami ami(Image i) {
    List<String> snapshots = i.blockDeviceMappings().stream()
        .map(m -> m.ebs() == null ? null : m.ebs().snapshotId()).filter(Objects::nonNull).toList();
    Instant created = i.creationDate() == null ? null : Instant.parse(i.creationDate());
    return new Ami(i.imageId(), i.name(), i.stateAsString(), snapshots, tagMap(i.tags()), created);
  }

  private static Filter filter(String name, String value) {
    return Filter.builder().name(name).values(value).build();
  }

  private static List<Filter> tagFilters(Map<String, String> tags) {
    return tags.entrySet().stream().map(e -> filter("tag:" + e.getKey(), e.getValue())).toList();
  }

  private static TagSpecification tagSpec(ResourceType type, Map<String, String> tags) {
    return TagSpecification.builder().resourceType(type).tags(tags(tags)).build();
  }

  private static List<Tag> tags(Map<String, String> tags) {
    return tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
  }

  private static Map<String, String> tagMap(List<Tag> tags) {
    return tags == null ? Map.of() : tags.stream().collect(Collectors.toMap(Tag::key, Tag::value, (a, b) -> b));
  }
}
