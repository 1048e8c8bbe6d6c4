package dev.nixek.ci.testing.aws.ec2;

import dev.nixek.ci.testing.aws.ec2.Ec2Model.Image;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.ImportTask;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Inst;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Resv;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Snap;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Volume;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fake's tables (instances, reservations by client token, images, snapshots, import tasks, volumes, tags of
 * other resources) and the lookups every action shares, including the eventual-consistency windows in which a new
 * resource is not found yet. This object is the one lock: every read or change of the tables holds its monitor.
 */
final class Ec2State {

    static final SecureRandom RANDOM = new SecureRandom();

    final Ec2Config cfg;
    final Ec2Faults faults;

    final Map<String, Inst> instances = new LinkedHashMap<>();
    final Map<String, Resv> runTokens = new HashMap<>();
    final Map<String, Image> images = new LinkedHashMap<>();
    final Map<String, Snap> snapshots = new LinkedHashMap<>();
    final Map<String, ImportTask> tasks = new LinkedHashMap<>();
    final Map<String, ImportTask> importTokens = new HashMap<>();
    final Map<String, Volume> volumes = new LinkedHashMap<>();
    final Map<String, Map<String, String>> otherTags = new HashMap<>();

    Ec2State(Ec2Config cfg, Ec2Faults faults) {
        this.cfg = cfg;
        this.faults = faults;
    }

    Instant now() {
        return cfg.clock.instant();
    }

    // ---------------------------------------------------------------- helpers

    static String newId(String prefix) {
        StringBuilder sb = new StringBuilder(prefix);
        for (int k = 0; k < 17; k++) {
            sb.append(Character.forDigit(RANDOM.nextInt(16), 16));
        }
        return sb.toString();
    }

    // visibility (eventual consistency)

    boolean hidden(Instant createdAt, String action) {
        Duration window = faults.notFoundWindow(action);
        return !window.isZero() && now().isBefore(createdAt.plus(window));
    }

    boolean visible(Inst i, String action) {
        if (hidden(i.createdAt, action)) {
            return false;
        }
        return i.state != InstanceState.TERMINATED || now().isBefore(i.terminatedAt.plus(cfg.terminatedVisibility));
    }

    Inst requireInstance(String id, String action) {
        if (!id.matches("i-[0-9a-f]{8,17}")) {
            throw Ec2Exception.client("InvalidInstanceID.Malformed", "Invalid id: \"" + id + "\"");
        }
        Inst i = instances.get(id);
        if (i == null || !visible(i, action)) {
            throw Ec2Exception.client("InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist");
        }
        return i;
    }

    List<Inst> requireInstances(List<String> ids, String action) {
        List<Inst> out = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String id : ids) {
            try {
                out.add(requireInstance(id, action));
            } catch (Ec2Exception e) {
                if (!"InvalidInstanceID.NotFound".equals(e.code)) {
                    throw e;
                }
                missing.add(id);
            }
        }
        if (missing.size() == 1) {
            throw Ec2Exception.client("InvalidInstanceID.NotFound",
                    "The instance ID '" + missing.get(0) + "' does not exist");
        } else if (!missing.isEmpty()) {
            throw Ec2Exception.client("InvalidInstanceID.NotFound",
                    "The instance IDs '" + String.join(", ", missing) + "' do not exist");
        }
        return out;
    }

    Image requireImage(String id, String action) {
        if (!id.matches("ami-[0-9a-f]{8,17}")) {
            throw Ec2Exception.client("InvalidAMIID.Malformed", "Invalid id: \"" + id + "\" (expecting \"ami-...\")");
        }
        Image img = images.get(id);
        if (img == null || hidden(img.createdAt, action)) {
            throw Ec2Exception.client("InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist");
        }
        return img;
    }

    Snap requireSnapshot(String id, String action) {
        Snap s = snapshots.get(id);
        if (s == null || hidden(s.createdAt, action)) {
            throw Ec2Exception.client("InvalidSnapshot.NotFound", "The snapshot '" + id + "' does not exist.");
        }
        return s;
    }

    ImportTask requireTask(String id, String action) {
        ImportTask t = tasks.get(id);
        if (t == null || hidden(t.createdAt, action)) {
            throw Ec2Exception.client("InvalidConversionTaskId",
                    "The import task ID '" + id + "' does not exist.");
        }
        return t;
    }
}
