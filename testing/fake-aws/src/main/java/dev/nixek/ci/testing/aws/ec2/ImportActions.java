package dev.nixek.ci.testing.aws.ec2;

import dev.nixek.ci.testing.aws.S3ObjectLookup;
import dev.nixek.ci.testing.aws.ec2.Ec2Filters.Filter;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.ImportTask;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Snap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

/**
 * ImportSnapshot and DescribeImportSnapshotTasks: a task checks its S3 object, honours its client token, and
 * advances one step per DescribeImportSnapshotTasks observation until it completes with a new snapshot (or ends
 * {@code deleted} with a message queued by {@link FakeEc2#failNextImport}). Called with the {@link Ec2State} lock
 * held.
 */
final class ImportActions {

    private static final long GIB = 1L << 30;

    private final Ec2State state;
    private volatile S3ObjectLookup s3ObjectLookup;
    private final Deque<String> importFailures = new ArrayDeque<>();

    ImportActions(Ec2State state) {
        this.state = state;
        this.s3ObjectLookup = state.cfg.s3ObjectLookup;
    }

    void s3ObjectLookup(S3ObjectLookup lookup) {
        this.s3ObjectLookup = Objects.requireNonNull(lookup, "lookup");
    }

    /** Called with the state lock held. */
    void failNextImport(String statusMessage) {
        importFailures.add(statusMessage);
    }

    String importSnapshot(QueryParams p, String requestId) {
        String token = p.get("ClientToken");
        Map<String, String> fingerprint = p.fingerprint("Action", "Version", "ClientToken");
        if (token != null && !token.isEmpty()) {
            ImportTask existing = state.importTokens.get(token);
            if (existing != null) {
                if (!existing.fingerprint.equals(fingerprint)) {
                    throw Ec2Exception.client("IdempotentParameterMismatch",
                            "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).");
                }
                Xml x = Xml.response("ImportSnapshot", requestId);
                taskBody(x, existing);
                return x.finish();
            }
        }
        QueryParams dc = p.sub("DiskContainer");
        String bucket = dc.get("UserBucket.S3Bucket");
        String key = dc.get("UserBucket.S3Key");
        String url = dc.get("Url");
        if (bucket == null && url != null) {
            if (!url.startsWith("s3://") || url.indexOf('/', 5) < 0) {
                throw Ec2Exception.client("InvalidParameter",
                        "The fake EC2 endpoint only supports DiskContainer.Url of the form s3://bucket/key: " + url);
            }
            bucket = url.substring(5, url.indexOf('/', 5));
            key = url.substring(url.indexOf('/', 5) + 1);
        }
        if (bucket == null || key == null) {
            throw Ec2Exception.client("MissingParameter",
                    "The request must contain the parameter DiskContainer.UserBucket (S3Bucket and S3Key) or DiskContainer.Url");
        }
        String format = dc.get("Format");
        if (format != null && !Set.of("VMDK", "VHD", "VHDX", "RAW").contains(format.toUpperCase(Locale.ROOT))) {
            throw Ec2Exception.client("InvalidParameter", "Unsupported disk image format: " + format);
        }
        Map<String, Map<String, String>> tagSpecs = Ec2Tags.tagSpecs(p, "ImportSnapshot",
                Set.of("import-snapshot-task", "snapshot"));
        OptionalLong size = s3ObjectLookup.objectSize(bucket, key);
        if (size.isEmpty()) {
            throw Ec2Exception.client("InvalidParameter",
                    "User does not have access to the S3 object (" + bucket + "/" + key + ").");
        }
        ImportTask t = new ImportTask();
        t.id = Ec2State.newId("import-snap-");
        t.description = p.get("Description");
        t.format = format == null ? null : format.toUpperCase(Locale.ROOT);
        t.bucket = bucket;
        t.key = key;
        t.url = url;
        t.size = size.getAsLong();
        t.roleName = p.get("RoleName", "vmimport");
        t.encrypted = Boolean.TRUE.equals(p.getBool("Encrypted"));
        t.kmsKeyId = p.get("KmsKeyId");
        t.clientToken = token;
        t.fingerprint = fingerprint;
        t.createdAt = state.now();
        t.failure = importFailures.poll();
        t.tags.putAll(tagSpecs.getOrDefault("import-snapshot-task", Map.of()));
        t.snapshotTags.putAll(tagSpecs.getOrDefault("snapshot", Map.of()));
        state.tasks.put(t.id, t);
        if (token != null && !token.isEmpty()) {
            state.importTokens.put(token, t);
        }
        Xml x = Xml.response("ImportSnapshot", requestId);
        taskBody(x, t);
        return x.finish();
    }

    private void taskBody(Xml x, ImportTask t) {
        x.el("description", t.description).el("importTaskId", t.id);
        x.open("snapshotTaskDetail")
                .el("description", t.description)
                .el("diskImageSize", ("completed".equals(t.status) || t.polls > 0 ? t.size : 0) + ".0") // as EC2 prints it
                .el("encrypted", String.valueOf(t.encrypted))
                .el("format", t.format)
                .el("kmsKeyId", t.kmsKeyId)
                .el("progress", "active".equals(t.status) ? t.progress : null)
                .el("snapshotId", t.snapshotId)
                .el("status", t.status)
                .el("statusMessage", t.statusMessage)
                .el("url", t.url)
                .open("userBucket").el("s3Bucket", t.bucket).el("s3Key", t.key).close()
                .close();
        x.tagSet(t.tags);
    }

    /** One DescribeImportSnapshotTasks observation of a task: advance it one step. */
    private void pollTask(ImportTask t) {
        if (!"active".equals(t.status)) {
            return;
        }
        t.polls++;
        if (t.polls >= state.cfg.importPolls) {
            if (t.failure != null) {
                t.status = "deleted";
                t.statusMessage = t.failure;
                t.progress = null;
            } else {
                Snap s = new Snap();
                s.id = Ec2State.newId("snap-");
                s.description = "Created by AWS-VMImport service for " + t.id;
                s.volumeSize = (int) Math.max(1, (t.size + GIB - 1) / GIB);
                s.startTime = t.createdAt;
                s.createdAt = state.now();
                s.encrypted = t.encrypted;
                s.kmsKeyId = t.kmsKeyId;
                s.importTaskId = t.id;
                s.tags.putAll(t.snapshotTags);
                state.snapshots.put(s.id, s);
                t.snapshotId = s.id;
                t.status = "completed";
                t.statusMessage = null;
                t.progress = null;
            }
        } else {
            t.statusMessage = "downloading/converting";
            t.progress = String.valueOf(Math.max(1, t.polls * 100 / state.cfg.importPolls));
        }
    }

    String describeImportSnapshotTasks(QueryParams p, String requestId) {
        List<String> ids = p.list("ImportTaskId");
        List<Filter> filters = Ec2Filters.filters(p, "Filters", Set.of("tag-key", "tag-value", "task-state"));
        List<ImportTask> candidates = new ArrayList<>();
        if (ids.isEmpty()) {
            state.tasks.values().stream().filter(t -> !state.hidden(t.createdAt, "DescribeImportSnapshotTasks"))
                    .forEach(candidates::add);
        } else {
            for (String id : ids) {
                candidates.add(state.requireTask(id, "DescribeImportSnapshotTasks"));
            }
        }
        List<ImportTask> matched = Ec2Filters.applyFilters(candidates, filters, t -> t.tags,
                (t, f) -> f.name().equals("task-state") && f.matches(t.status));
        Xml x = Xml.response("DescribeImportSnapshotTasks", requestId).open("importSnapshotTaskSet");
        for (ImportTask t : matched) {
            pollTask(t);
            x.open("item");
            taskBody(x, t);
            x.close();
        }
        return x.close().finish();
    }
}
