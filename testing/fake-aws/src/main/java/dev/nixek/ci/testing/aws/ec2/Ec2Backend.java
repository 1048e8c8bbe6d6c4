package dev.nixek.ci.testing.aws.ec2;

import dev.nixek.ci.testing.aws.S3ObjectLookup;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state and the action handlers of {@link FakeEc2}. Every public-to-the-package method that touches state
 * is {@code synchronized}; work that calls user code (launch hooks, {@link Machine#stop()}) is returned as
 * "post actions" and run by the caller after the lock is released.
 */
final class Ec2Backend {

    private static final Logger LOG = LoggerFactory.getLogger(Ec2Backend.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long GIB = 1L << 30;
    private static final int USER_DATA_LIMIT = 16 * 1024;
    private static final Pattern AMI_NAME = Pattern.compile("[A-Za-z0-9()\\[\\] ./\\-'@_]{3,128}");

    // ---------------------------------------------------------------- records

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

    record Filter(String name, List<String> values, List<Pattern> patterns) {
        boolean matches(String value) {
            if (value == null) {
                return false;
            }
            for (Pattern p : patterns) {
                if (p.matcher(value).matches()) {
                    return true;
                }
            }
            return false;
        }

        boolean matchesAny(Collection<String> candidates) {
            for (String c : candidates) {
                if (matches(c)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** An action's response plus work to run (off the lock) afterwards. */
    record Result(String xml, List<Runnable> post) {
    }

    // ---------------------------------------------------------------- state

    private final Ec2Config cfg;
    private final Ec2Faults faults;
    private final FakeEc2 owner;

    private volatile LaunchHook launchHook;
    private volatile boolean guestPoweroffFails;
    private volatile S3ObjectLookup s3ObjectLookup;
    private final Deque<String> importFailures = new ArrayDeque<>();

    private final Map<String, Inst> instances = new LinkedHashMap<>();
    private final Map<String, Resv> runTokens = new HashMap<>();
    private final Map<String, Image> images = new LinkedHashMap<>();
    private final Map<String, Snap> snapshots = new LinkedHashMap<>();
    private final Map<String, ImportTask> tasks = new LinkedHashMap<>();
    private final Map<String, ImportTask> importTokens = new HashMap<>();
    private final Map<String, Volume> volumes = new LinkedHashMap<>();
    private final Map<String, Map<String, String>> otherTags = new HashMap<>();
    private final List<String> guestPoweroffsIgnored = new ArrayList<>();

    Ec2Backend(Ec2Config cfg, Ec2Faults faults, FakeEc2 owner) {
        this.cfg = cfg;
        this.faults = faults;
        this.owner = owner;
        this.s3ObjectLookup = cfg.s3ObjectLookup;
    }

    void launchHook(LaunchHook hook) {
        this.launchHook = hook;
    }

    void guestPoweroffFails(boolean fails) {
        this.guestPoweroffFails = fails;
    }

    void s3ObjectLookup(S3ObjectLookup lookup) {
        this.s3ObjectLookup = Objects.requireNonNull(lookup, "lookup");
    }

    synchronized void failNextImport(String statusMessage) {
        importFailures.add(statusMessage);
    }

    synchronized List<String> guestPoweroffsIgnored() {
        return List.copyOf(guestPoweroffsIgnored);
    }

    private Instant now() {
        return cfg.clock.instant();
    }

    // ---------------------------------------------------------------- dispatch

    Result handle(String action, QueryParams p, String requestId) {
        List<Runnable> post = new ArrayList<>();
        String xml;
        synchronized (this) {
            advance(post);
            xml = switch (action) {
                case "RunInstances" -> runInstances(p, requestId);
                case "DescribeInstances" -> describeInstances(p, requestId);
                case "TerminateInstances" -> terminateInstances(p, requestId, post);
                case "DescribeInstanceAttribute" -> describeInstanceAttribute(p, requestId);
                case "ImportSnapshot" -> importSnapshot(p, requestId);
                case "DescribeImportSnapshotTasks" -> describeImportSnapshotTasks(p, requestId);
                case "RegisterImage" -> registerImage(p, requestId);
                case "DescribeImages" -> describeImages(p, requestId);
                case "DeregisterImage" -> deregisterImage(p, requestId);
                case "DescribeSnapshots" -> describeSnapshots(p, requestId);
                case "DeleteSnapshot" -> deleteSnapshot(p, requestId);
                case "CreateTags" -> createTags(p, requestId);
                case "DeleteTags" -> deleteTags(p, requestId);
                default -> throw Ec2Exception.client("InvalidAction",
                        "The action " + action + " is not valid for this web service.");
            };
        }
        return new Result(xml, post);
    }

    /** Time-driven transitions; called by the ticker. Returns post actions. */
    List<Runnable> tick() {
        List<Runnable> post = new ArrayList<>();
        synchronized (this) {
            advance(post);
        }
        return post;
    }

    private void advance(List<Runnable> post) {
        Instant now = now();
        for (Inst i : instances.values()) {
            Duration inState = Duration.between(i.stateSince, now);
            switch (i.state) {
                case PENDING -> {
                    if (i.polls >= cfg.pendingPolls || reached(inState, cfg.pendingTime)) {
                        setState(i, InstanceState.RUNNING, now);
                        dispatchLaunch(i, post);
                    }
                }
                case SHUTTING_DOWN -> {
                    if (i.polls >= cfg.shuttingDownPolls || reached(inState, cfg.shuttingDownTime)) {
                        setState(i, InstanceState.TERMINATED, now);
                        i.terminatedAt = now;
                        i.guestRunning = false;
                        for (Volume v : i.volumes) {
                            if (v.deleteOnTermination) {
                                v.deleted = true;
                            }
                        }
                    }
                }
                case STOPPING -> {
                    if (i.polls >= cfg.shuttingDownPolls || reached(inState, cfg.shuttingDownTime)) {
                        setState(i, InstanceState.STOPPED, now);
                        i.guestRunning = false;
                    }
                }
                default -> { }
            }
        }
        if (cfg.clientTokenExpiry != null) {
            runTokens.values().removeIf(r -> {
                Instant last = null;
                for (Inst i : r.instances) {
                    if (i.state != InstanceState.TERMINATED) {
                        return false;
                    }
                    if (last == null || i.terminatedAt.isAfter(last)) {
                        last = i.terminatedAt;
                    }
                }
                return last != null && !now.isBefore(last.plus(cfg.clientTokenExpiry));
            });
        }
    }

    private static boolean reached(Duration elapsed, Duration threshold) {
        return threshold != null && elapsed.compareTo(threshold) >= 0;
    }

    private static void setState(Inst i, InstanceState s, Instant now) {
        i.state = s;
        i.stateSince = now;
        i.polls = 0;
    }

    private void dispatchLaunch(Inst i, List<Runnable> post) {
        LaunchHook hook = launchHook;
        if (hook == null || i.hookDispatched) {
            return;
        }
        i.hookDispatched = true;
        i.guestRunning = true;
        LaunchedInstance li = new LaunchedInstance(i.id, i.imageId, i.instanceType, i.userData, i.tags, owner);
        post.add(() -> {
            Machine m;
            try {
                m = hook.launch(li);
            } catch (Exception e) {
                LOG.warn("launch hook failed for {}", i.id, e);
                synchronized (this) {
                    i.guestRunning = false;
                }
                return;
            }
            boolean stopNow;
            synchronized (this) {
                i.machine = m;
                stopNow = i.state == InstanceState.SHUTTING_DOWN || i.state == InstanceState.TERMINATED;
            }
            if (stopNow && m != null) {
                stopMachine(i.id, m);
            }
        });
    }

    private static void stopMachine(String id, Machine m) {
        try {
            m.stop();
        } catch (RuntimeException e) {
            LOG.warn("Machine.stop() failed for {}", id, e);
        }
    }

    /** The guest powered itself off. */
    synchronized boolean instanceShutdownByGuest(String instanceId) {
        Inst i = instances.get(instanceId);
        if (i == null || i.state != InstanceState.RUNNING) {
            return false;
        }
        if (guestPoweroffFails) {
            guestPoweroffsIgnored.add(instanceId);
            i.guestRunning = false;
            return false;
        }
        Instant now = now();
        i.guestRunning = false;
        i.stateReasonCode = "Client.InstanceInitiatedShutdown";
        i.stateReasonMessage = "Client.InstanceInitiatedShutdown: Instance initiated shutdown";
        if ("terminate".equals(i.shutdownBehavior)) {
            setState(i, InstanceState.SHUTTING_DOWN, now);
        } else {
            setState(i, InstanceState.STOPPING, now);
        }
        i.reason = "User initiated (" + Xml.time(now).replace('T', ' ').replace(".000Z", " GMT") + ")";
        return true;
    }

    // ---------------------------------------------------------------- visibility (eventual consistency)

    private boolean hidden(Instant createdAt, String action) {
        Duration window = faults.notFoundWindow(action);
        return !window.isZero() && now().isBefore(createdAt.plus(window));
    }

    private boolean visible(Inst i, String action) {
        if (hidden(i.createdAt, action)) {
            return false;
        }
        return i.state != InstanceState.TERMINATED || now().isBefore(i.terminatedAt.plus(cfg.terminatedVisibility));
    }

    private Inst requireInstance(String id, String action) {
        if (!id.matches("i-[0-9a-f]{8,17}")) {
            throw Ec2Exception.client("InvalidInstanceID.Malformed", "Invalid id: \"" + id + "\"");
        }
        Inst i = instances.get(id);
        if (i == null || !visible(i, action)) {
            throw Ec2Exception.client("InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist");
        }
        return i;
    }

    private List<Inst> requireInstances(List<String> ids, String action) {
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

    private Image requireImage(String id, String action) {
        if (!id.matches("ami-[0-9a-f]{8,17}")) {
            throw Ec2Exception.client("InvalidAMIID.Malformed", "Invalid id: \"" + id + "\" (expecting \"ami-...\")");
        }
        Image img = images.get(id);
        if (img == null || hidden(img.createdAt, action)) {
            throw Ec2Exception.client("InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist");
        }
        return img;
    }

    private Snap requireSnapshot(String id, String action) {
        Snap s = snapshots.get(id);
        if (s == null || hidden(s.createdAt, action)) {
            throw Ec2Exception.client("InvalidSnapshot.NotFound", "The snapshot '" + id + "' does not exist.");
        }
        return s;
    }

    private ImportTask requireTask(String id, String action) {
        ImportTask t = tasks.get(id);
        if (t == null || hidden(t.createdAt, action)) {
            throw Ec2Exception.client("InvalidConversionTaskId",
                    "The import task ID '" + id + "' does not exist.");
        }
        return t;
    }

    // ---------------------------------------------------------------- helpers

    static String newId(String prefix) {
        StringBuilder sb = new StringBuilder(prefix);
        for (int k = 0; k < 17; k++) {
            sb.append(Character.forDigit(RANDOM.nextInt(16), 16));
        }
        return sb.toString();
    }

    /** {@code TagSpecification.N.ResourceType / .Tag.M.Key / .Tag.M.Value}, by resource type. */
    private static Map<String, Map<String, String>> tagSpecs(QueryParams p, String action, Set<String> allowed) {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        for (QueryParams spec : p.structs("TagSpecification")) {
            String type = spec.require("ResourceType");
            if (!allowed.contains(type)) {
                throw Ec2Exception.client("InvalidParameterValue",
                        "'" + type + "' is not a valid taggable resource type for this operation.");
            }
            Map<String, String> tags = out.computeIfAbsent(type, t -> new LinkedHashMap<>());
            for (QueryParams tag : spec.structs("Tag")) {
                String key = tag.require("Key");
                checkTagKey(key);
                tags.put(key, tag.get("Value", ""));
            }
        }
        return out;
    }

    private static void checkTagKey(String key) {
        if (key.length() > 128) {
            throw Ec2Exception.client("InvalidParameterValue", "Tag key exceeds the maximum length of 128 characters");
        }
        if (key.toLowerCase(Locale.ROOT).startsWith("aws:")) {
            throw Ec2Exception.client("InvalidParameterValue",
                    "Tag keys starting with 'aws:' are reserved for internal use");
        }
    }

    private static List<Filter> filters(QueryParams p, String prefix, Set<String> names) {
        List<Filter> out = new ArrayList<>();
        for (QueryParams f : p.structs(prefix)) {
            String name = f.require("Name");
            boolean ok = names.contains(name) || name.startsWith("tag:") && name.length() > 4;
            if (!ok) {
                throw Ec2Exception.client("InvalidParameterValue", "The filter '" + name + "' is invalid");
            }
            List<String> values = f.list("Value");
            List<Pattern> patterns = values.stream().map(Ec2Backend::wildcard).toList();
            out.add(new Filter(name, values, patterns));
        }
        return out;
    }

    /** EC2 filter values: {@code *} any sequence, {@code ?} one character, {@code \} escapes. */
    static Pattern wildcard(String value) {
        StringBuilder re = new StringBuilder();
        for (int k = 0; k < value.length(); k++) {
            char c = value.charAt(k);
            if (c == '\\' && k + 1 < value.length()) {
                re.append(Pattern.quote(String.valueOf(value.charAt(++k))));
            } else if (c == '*') {
                re.append(".*");
            } else if (c == '?') {
                re.append('.');
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    /** Shared tag filters; returns null when {@code f} is not a tag filter. */
    private static Boolean tagFilter(Filter f, Map<String, String> tags) {
        if (f.name().startsWith("tag:")) {
            String v = tags.get(f.name().substring(4));
            return v != null && f.matches(v);
        }
        if (f.name().equals("tag-key")) {
            return f.matchesAny(tags.keySet());
        }
        if (f.name().equals("tag-value")) {
            return f.matchesAny(tags.values());
        }
        return null;
    }

    private static <T> List<T> applyFilters(Collection<T> items, List<Filter> filters,
                                            Function<T, Map<String, String>> tags,
                                            java.util.function.BiFunction<T, Filter, Boolean> field) {
        List<T> out = new ArrayList<>();
        for (T item : items) {
            boolean keep = true;
            for (Filter f : filters) {
                Boolean m = tagFilter(f, tags.apply(item));
                if (m == null) {
                    m = field.apply(item, f);
                }
                if (!m) {
                    keep = false;
                    break;
                }
            }
            if (keep) {
                out.add(item);
            }
        }
        return out;
    }

    private static String b(Boolean v) {
        return v == null ? null : v.toString();
    }

    // ---------------------------------------------------------------- RunInstances

    private String runInstances(QueryParams p, String requestId) {
        Instant now = now();
        String token = p.get("ClientToken");
        Map<String, String> fingerprint = p.fingerprint("Action", "Version", "ClientToken");
        if (token != null && !token.isEmpty()) {
            if (token.length() > 64) {
                throw Ec2Exception.client("InvalidParameterValue", "The client token must not exceed 64 characters");
            }
            Resv existing = runTokens.get(token);
            if (existing != null) {
                if (!existing.fingerprint.equals(fingerprint)) {
                    throw Ec2Exception.client("IdempotentParameterMismatch",
                            "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).");
                }
                boolean allTerminated = existing.instances.stream().allMatch(i -> i.state == InstanceState.TERMINATED);
                if (allTerminated && cfg.terminatedTokenBehavior == TerminatedTokenBehavior.ERROR) {
                    throw Ec2Exception.client("IdempotentInstanceTerminated",
                            "The request to launch an instance uses the same client token as a previous request "
                                    + "for which the instance has been terminated.");
                }
                Xml x = Xml.response("RunInstances", requestId);
                reservationBody(x, existing, existing.instances);
                return x.finish();
            }
        }
        Image img = requireImage(p.require("ImageId"), "RunInstances");
        Integer min = p.getInt("MinCount");
        Integer max = p.getInt("MaxCount");
        if (min == null) {
            throw Ec2Exception.client("MissingParameter", "The request must contain the parameter MinCount");
        }
        if (max == null) {
            throw Ec2Exception.client("MissingParameter", "The request must contain the parameter MaxCount");
        }
        if (min < 1 || max < 1 || min > max) {
            throw Ec2Exception.client("InvalidParameterValue",
                    "Invalid MinCount/MaxCount: " + min + "/" + max + " (1 <= MinCount <= MaxCount)");
        }
        String instanceType = p.get("InstanceType", "m1.small");
        String userDataB64 = p.get("UserData");
        String userData = null;
        if (userDataB64 != null) {
            byte[] raw;
            try {
                raw = Base64.getMimeDecoder().decode(userDataB64);
            } catch (IllegalArgumentException e) {
                throw Ec2Exception.client("InvalidParameterValue", "Invalid BASE64 encoding of user data.");
            }
            if (raw.length > USER_DATA_LIMIT) {
                throw Ec2Exception.client("InvalidParameterValue", "User data is limited to 16384 bytes");
            }
            userData = new String(raw, StandardCharsets.UTF_8);
        }
        String shutdown = p.get("InstanceInitiatedShutdownBehavior", "stop");
        if (!shutdown.equals("stop") && !shutdown.equals("terminate")) {
            throw Ec2Exception.client("InvalidParameterValue", "Value (" + shutdown
                    + ") for parameter instanceInitiatedShutdownBehavior is invalid. Expecting one of: stop, terminate");
        }
        QueryParams md = p.sub("MetadataOptions");
        String httpTokens = md.get("HttpTokens", "v2.0".equals(img.imdsSupport) ? "required" : "optional");
        if (!httpTokens.equals("required") && !httpTokens.equals("optional")) {
            throw Ec2Exception.client("InvalidParameterValue", "Value (" + httpTokens + ") for parameter HttpTokens is invalid.");
        }
        Integer hop = md.getInt("HttpPutResponseHopLimit");
        int hopLimit = hop == null ? ("v2.0".equals(img.imdsSupport) ? 2 : 1) : hop;
        if (hopLimit < 1 || hopLimit > 64) {
            throw Ec2Exception.client("InvalidParameterValue",
                    "Value (" + hopLimit + ") for parameter HttpPutResponseHopLimit is invalid. Expecting 1-64.");
        }
        String httpEndpoint = md.get("HttpEndpoint", "enabled");
        if (!httpEndpoint.equals("enabled") && !httpEndpoint.equals("disabled")) {
            throw Ec2Exception.client("InvalidParameterValue", "Value (" + httpEndpoint + ") for parameter HttpEndpoint is invalid.");
        }
        String market = p.get("InstanceMarketOptions.MarketType");
        boolean spot = "spot".equals(market);
        if (market != null && !spot && !market.equals("capacity-block") && !market.equals("interruptible-capacity-reservation")) {
            throw Ec2Exception.client("InvalidParameterValue", "Value (" + market + ") for parameter MarketType is invalid.");
        }
        String subnetId = p.get("SubnetId");
        if (subnetId != null && !subnetId.startsWith("subnet-")) {
            throw Ec2Exception.client("InvalidSubnetID.NotFound", "The subnet ID '" + subnetId + "' does not exist");
        }
        List<String> sgIds = p.list("SecurityGroupId");
        for (String sg : sgIds) {
            if (!sg.startsWith("sg-")) {
                throw Ec2Exception.client("InvalidGroupId.Malformed", "Invalid id: \"" + sg + "\" (expecting \"sg-...\")");
            }
        }
        String profileArn = p.get("IamInstanceProfile.Arn");
        String profileName = p.get("IamInstanceProfile.Name");
        if (profileArn == null && profileName != null) {
            profileArn = "arn:aws:iam::" + cfg.accountId + ":instance-profile/" + profileName;
        }
        Map<String, Map<String, String>> tagSpecs = tagSpecs(p, "RunInstances",
                Set.of("instance", "volume", "network-interface", "spot-instances-request"));
        if (spot) {
            Ec2Faults.Fault f = faults.nextSpotFault();
            if (f != null) {
                throw new Ec2Exception(f.status(), f.code(), f.message());
            }
        }
        Map<String, QueryParams> bdmOverrides = new HashMap<>();
        for (QueryParams m : p.structs("BlockDeviceMapping")) {
            bdmOverrides.put(m.require("DeviceName"), m);
        }

        Resv r = new Resv();
        r.id = newId("r-");
        r.clientToken = token;
        r.fingerprint = fingerprint;
        String az = cfg.region + "a";
        for (int n = 0; n < max; n++) {
            Inst i = new Inst();
            i.id = newId("i-");
            i.reservation = r;
            i.imageId = img.id;
            i.instanceType = instanceType;
            i.architecture = img.architecture;
            i.rootDeviceName = img.rootDeviceName;
            i.bootMode = img.bootMode;
            i.enaSupport = img.enaSupport;
            i.launchTime = now;
            i.createdAt = now;
            i.stateSince = now;
            i.userDataB64 = userDataB64;
            i.userData = userData;
            i.clientToken = token;
            i.shutdownBehavior = shutdown;
            i.httpTokens = httpTokens;
            i.hopLimit = hopLimit;
            i.httpEndpoint = httpEndpoint;
            i.subnetId = subnetId != null ? subnetId : "subnet-0fa4e0000000default";
            i.vpcId = "vpc-0fa4e00000000default";
            i.availabilityZone = az;
            i.securityGroupIds = sgIds.isEmpty() ? List.of("sg-0fa4e0000000default") : List.copyOf(sgIds);
            i.iamProfileArn = profileArn;
            i.iamProfileId = profileArn == null ? null : "AIPA" + newId("").toUpperCase(Locale.ROOT);
            i.spot = spot;
            i.spotRequestId = spot ? newId("sir-").substring(0, 12) : null;
            i.launchIndex = n;
            i.privateIp = "10.0." + RANDOM.nextInt(256) + "." + (1 + RANDOM.nextInt(254));
            i.tags.putAll(tagSpecs.getOrDefault("instance", Map.of()));
            for (BlockDevice bd : img.mappings) {
                if (bd.snapshotId == null && bd.volumeSize == null) {
                    continue;
                }
                QueryParams o = bdmOverrides.get(bd.deviceName);
                Volume v = new Volume();
                v.id = newId("vol-");
                v.deviceName = bd.deviceName;
                v.snapshotId = bd.snapshotId;
                Integer size = o == null ? null : o.getInt("Ebs.VolumeSize");
                v.size = size != null ? size : bd.volumeSize != null ? bd.volumeSize
                        : snapshots.containsKey(bd.snapshotId) ? snapshots.get(bd.snapshotId).volumeSize : 8;
                v.type = o != null && o.get("Ebs.VolumeType") != null ? o.get("Ebs.VolumeType")
                        : bd.volumeType != null ? bd.volumeType : "gp2";
                Boolean dot = o == null ? null : o.getBool("Ebs.DeleteOnTermination");
                v.deleteOnTermination = dot != null ? dot : bd.deleteOnTermination == null || bd.deleteOnTermination;
                v.encrypted = Boolean.TRUE.equals(bd.encrypted);
                v.createdAt = now;
                v.tags.putAll(tagSpecs.getOrDefault("volume", Map.of()));
                i.volumes.add(v);
                volumes.put(v.id, v);
            }
            r.instances.add(i);
            instances.put(i.id, i);
        }
        if (token != null && !token.isEmpty()) {
            runTokens.put(token, r);
        }
        Xml x = Xml.response("RunInstances", requestId);
        reservationBody(x, r, r.instances);
        return x.finish();
    }

    private void reservationBody(Xml x, Resv r, List<Inst> insts) {
        x.el("reservationId", r.id).el("ownerId", cfg.accountId).open("groupSet").close().open("instancesSet");
        for (Inst i : insts) {
            instanceItem(x, i);
        }
        x.close();
    }

    private void instanceItem(Xml x, Inst i) {
        boolean gone = i.state == InstanceState.TERMINATED;
        x.open("item")
                .el("instanceId", i.id)
                .el("imageId", i.imageId)
                .open("instanceState").el("code", i.state.code()).el("name", i.state.label()).close()
                .el("privateDnsName", gone ? "" : "ip-" + i.privateIp.replace('.', '-') + ".ec2.internal")
                .el("dnsName", "")
                .el("reason", i.reason)
                .el("amiLaunchIndex", i.launchIndex)
                .open("productCodes").close()
                .el("instanceType", i.instanceType)
                .el("launchTime", i.launchTime)
                .open("placement").el("availabilityZone", i.availabilityZone).el("groupName", "")
                .el("tenancy", "default").close()
                .open("monitoring").el("state", "disabled").close();
        if (!gone) {
            x.el("subnetId", i.subnetId).el("vpcId", i.vpcId).el("privateIpAddress", i.privateIp)
                    .el("sourceDestCheck", "true");
        }
        x.open("groupSet");
        for (String sg : i.securityGroupIds) {
            x.open("item").el("groupId", sg).el("groupName", sg.endsWith("default") ? "default" : sg).close();
        }
        x.close();
        if (i.stateReasonCode != null) {
            x.open("stateReason").el("code", i.stateReasonCode).el("message", i.stateReasonMessage).close();
        }
        x.el("architecture", i.architecture).el("rootDeviceType", "ebs").el("rootDeviceName", i.rootDeviceName);
        x.open("blockDeviceMapping");
        if (!gone) {
            for (Volume v : i.volumes) {
                x.open("item").el("deviceName", v.deviceName).open("ebs")
                        .el("volumeId", v.id).el("status", "attached").el("attachTime", i.launchTime)
                        .el("deleteOnTermination", String.valueOf(v.deleteOnTermination)).close().close();
            }
        }
        x.close();
        x.el("virtualizationType", "hvm")
                .el("clientToken", i.clientToken == null ? "" : i.clientToken)
                .tagSet(i.tags)
                .el("hypervisor", "xen");
        if (i.iamProfileArn != null) {
            x.open("iamInstanceProfile").el("arn", i.iamProfileArn).el("id", i.iamProfileId).close();
        }
        x.el("ebsOptimized", "false").el("enaSupport", b(i.enaSupport));
        if (i.spot) {
            x.el("instanceLifecycle", "spot").el("spotInstanceRequestId", i.spotRequestId);
        }
        x.open("metadataOptions")
                .el("state", i.state == InstanceState.PENDING ? "pending" : "applied")
                .el("httpTokens", i.httpTokens)
                .el("httpPutResponseHopLimit", i.hopLimit)
                .el("httpEndpoint", i.httpEndpoint)
                .el("httpProtocolIpv6", "disabled")
                .el("instanceMetadataTags", "disabled")
                .close();
        if (i.bootMode != null) {
            x.el("bootMode", i.bootMode).el("currentInstanceBootMode", "uefi".equals(i.bootMode) ? "uefi" : "legacy-bios");
        }
        x.el("platformDetails", "Linux/UNIX").el("usageOperation", "RunInstances");
        x.close();
    }

    // ---------------------------------------------------------------- DescribeInstances

    private static final Set<String> INSTANCE_FILTERS = Set.of("tag-key", "tag-value", "instance-state-name",
            "instance-state-code", "client-token", "instance-id", "image-id", "instance-type", "subnet-id", "vpc-id",
            "reservation-id", "instance-lifecycle", "availability-zone");

    private String describeInstances(QueryParams p, String requestId) {
        List<String> ids = p.list("InstanceId");
        Integer maxResults = p.getInt("MaxResults");
        if (!ids.isEmpty() && maxResults != null) {
            throw Ec2Exception.client("InvalidParameterCombination",
                    "The parameter instancesSet cannot be used with the parameter maxResults");
        }
        if (maxResults != null && (maxResults < 5 || maxResults > 1000)) {
            throw Ec2Exception.client("InvalidParameterValue", "Value ( " + maxResults
                    + " ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.");
        }
        List<Filter> filters = filters(p, "Filter", INSTANCE_FILTERS);
        List<Inst> candidates = ids.isEmpty()
                ? instances.values().stream().filter(i -> visible(i, "DescribeInstances")).toList()
                : requireInstances(ids, "DescribeInstances");
        List<Inst> matched = applyFilters(candidates, filters, i -> i.tags, Ec2Backend::instanceField);
        int offset = pageOffset(p.get("NextToken"), "DescribeInstances");
        int end = maxResults == null ? matched.size() : Math.min(matched.size(), offset + maxResults);
        List<Inst> page = offset >= matched.size() ? List.of() : matched.subList(offset, end);
        String next = end < matched.size() ? pageToken("DescribeInstances", end) : null;

        Xml x = Xml.response("DescribeInstances", requestId).open("reservationSet");
        Map<Resv, List<Inst>> byReservation = new LinkedHashMap<>();
        for (Inst i : page) {
            byReservation.computeIfAbsent(i.reservation, r -> new ArrayList<>()).add(i);
        }
        byReservation.forEach((r, list) -> {
            x.open("item");
            reservationBody(x, r, list);
            x.close();
        });
        x.close().el("nextToken", next);
        String xml = x.finish();
        for (Inst i : page) {
            i.polls++;
        }
        return xml;
    }

    private static Boolean instanceField(Inst i, Filter f) {
        return switch (f.name()) {
            case "instance-state-name" -> f.matches(i.state.label());
            case "instance-state-code" -> f.matches(String.valueOf(i.state.code()));
            case "client-token" -> f.matches(i.clientToken);
            case "instance-id" -> f.matches(i.id);
            case "image-id" -> f.matches(i.imageId);
            case "instance-type" -> f.matches(i.instanceType);
            case "subnet-id" -> f.matches(i.subnetId);
            case "vpc-id" -> f.matches(i.vpcId);
            case "reservation-id" -> f.matches(i.reservation.id);
            case "instance-lifecycle" -> i.spot && f.matches("spot");
            case "availability-zone" -> f.matches(i.availabilityZone);
            default -> false;
        };
    }

    private static String pageToken(String action, int offset) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((action + ":" + offset).getBytes(StandardCharsets.UTF_8));
    }

    private static int pageOffset(String token, String action) {
        if (token == null || token.isEmpty()) {
            return 0;
        }
        try {
            String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            if (s.startsWith(action + ":")) {
                return Integer.parseInt(s.substring(action.length() + 1));
            }
        } catch (IllegalArgumentException e) {
            // fall through
        }
        throw Ec2Exception.client("InvalidPaginationToken", "The specified pagination token is not valid or is expired.");
    }

    // ---------------------------------------------------------------- TerminateInstances

    private String terminateInstances(QueryParams p, String requestId, List<Runnable> post) {
        List<String> ids = p.list("InstanceId");
        if (ids.isEmpty()) {
            throw Ec2Exception.client("MissingParameter", "The request must contain the parameter InstanceId");
        }
        List<Inst> targets = requireInstances(ids, "TerminateInstances");
        Instant now = now();
        Xml x = Xml.response("TerminateInstances", requestId).open("instancesSet");
        for (Inst i : targets) {
            InstanceState previous = i.state;
            if (previous != InstanceState.SHUTTING_DOWN && previous != InstanceState.TERMINATED) {
                setState(i, InstanceState.SHUTTING_DOWN, now);
                i.stateReasonCode = "Client.UserInitiatedShutdown";
                i.stateReasonMessage = "Client.UserInitiatedShutdown: User initiated shutdown";
                i.reason = "User initiated (" + Xml.time(now).replace('T', ' ').replace(".000Z", " GMT") + ")";
                Machine m = i.machine;
                if (m != null) {
                    String id = i.id;
                    post.add(() -> stopMachine(id, m));
                }
            }
            x.open("item").el("instanceId", i.id)
                    .open("currentState").el("code", i.state.code()).el("name", i.state.label()).close()
                    .open("previousState").el("code", previous.code()).el("name", previous.label()).close()
                    .close();
        }
        return x.finish();
    }

    // ---------------------------------------------------------------- DescribeInstanceAttribute

    private String describeInstanceAttribute(QueryParams p, String requestId) {
        Inst i = requireInstance(p.require("InstanceId"), "DescribeInstanceAttribute");
        String attribute = p.require("Attribute");
        Xml x = Xml.response("DescribeInstanceAttribute", requestId).el("instanceId", i.id);
        switch (attribute) {
            case "userData" -> {
                x.open("userData");
                if (i.userDataB64 != null) {
                    x.el("value", i.userDataB64);
                }
                x.close();
            }
            case "instanceInitiatedShutdownBehavior" ->
                    x.open("instanceInitiatedShutdownBehavior").el("value", i.shutdownBehavior).close();
            case "instanceType" -> x.open("instanceType").el("value", i.instanceType).close();
            case "disableApiTermination" -> x.open("disableApiTermination").el("value", "false").close();
            default -> throw Ec2Exception.client("InvalidParameterValue",
                    "Value (" + attribute + ") for parameter attribute is invalid. Unknown attribute.");
        }
        return x.finish();
    }

    // ---------------------------------------------------------------- ImportSnapshot

    private String importSnapshot(QueryParams p, String requestId) {
        String token = p.get("ClientToken");
        Map<String, String> fingerprint = p.fingerprint("Action", "Version", "ClientToken");
        if (token != null && !token.isEmpty()) {
            ImportTask existing = importTokens.get(token);
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
        Map<String, Map<String, String>> tagSpecs = tagSpecs(p, "ImportSnapshot",
                Set.of("import-snapshot-task", "snapshot"));
        OptionalLong size = s3ObjectLookup.objectSize(bucket, key);
        if (size.isEmpty()) {
            throw Ec2Exception.client("InvalidParameter",
                    "User does not have access to the S3 object (" + bucket + "/" + key + ").");
        }
        ImportTask t = new ImportTask();
        t.id = newId("import-snap-");
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
        t.createdAt = now();
        t.failure = importFailures.poll();
        t.tags.putAll(tagSpecs.getOrDefault("import-snapshot-task", Map.of()));
        t.snapshotTags.putAll(tagSpecs.getOrDefault("snapshot", Map.of()));
        tasks.put(t.id, t);
        if (token != null && !token.isEmpty()) {
            importTokens.put(token, t);
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
        if (t.polls >= cfg.importPolls) {
            if (t.failure != null) {
                t.status = "deleted";
                t.statusMessage = t.failure;
                t.progress = null;
            } else {
                Snap s = new Snap();
                s.id = newId("snap-");
                s.description = "Created by AWS-VMImport service for " + t.id;
                s.volumeSize = (int) Math.max(1, (t.size + GIB - 1) / GIB);
                s.startTime = t.createdAt;
                s.createdAt = now();
                s.encrypted = t.encrypted;
                s.kmsKeyId = t.kmsKeyId;
                s.importTaskId = t.id;
                s.tags.putAll(t.snapshotTags);
                snapshots.put(s.id, s);
                t.snapshotId = s.id;
                t.status = "completed";
                t.statusMessage = null;
                t.progress = null;
            }
        } else {
            t.statusMessage = "downloading/converting";
            t.progress = String.valueOf(Math.max(1, t.polls * 100 / cfg.importPolls));
        }
    }

    private String describeImportSnapshotTasks(QueryParams p, String requestId) {
        List<String> ids = p.list("ImportTaskId");
        List<Filter> filters = filters(p, "Filters", Set.of("tag-key", "tag-value", "task-state"));
        List<ImportTask> candidates = new ArrayList<>();
        if (ids.isEmpty()) {
            tasks.values().stream().filter(t -> !hidden(t.createdAt, "DescribeImportSnapshotTasks"))
                    .forEach(candidates::add);
        } else {
            for (String id : ids) {
                candidates.add(requireTask(id, "DescribeImportSnapshotTasks"));
            }
        }
        List<ImportTask> matched = applyFilters(candidates, filters, t -> t.tags,
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

    // ---------------------------------------------------------------- images

    private String registerImage(QueryParams p, String requestId) {
        String name = p.require("Name");
        if (!AMI_NAME.matcher(name).matches()) {
            throw Ec2Exception.client("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, "
                    + "and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'");
        }
        for (Image other : images.values()) {
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
        Map<String, Map<String, String>> tagSpecs = tagSpecs(p, "RegisterImage", Set.of("image"));
        Image img = new Image();
        img.id = newId("ami-");
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
        img.createdAt = now();
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
                Snap s = requireSnapshot(bd.snapshotId, "RegisterImage");
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
        images.put(img.id, img);
        return Xml.response("RegisterImage", requestId).el("imageId", img.id).finish();
    }

    private static boolean sameDevice(String a, String b) {
        return a.replaceFirst("^/dev/", "").equals(b.replaceFirst("^/dev/", ""));
    }

    private static final Set<String> IMAGE_FILTERS = Set.of("tag-key", "tag-value", "name", "image-id", "state",
            "owner-id", "architecture", "description", "root-device-name", "is-public", "image-type",
            "virtualization-type", "block-device-mapping.snapshot-id");

    private String describeImages(QueryParams p, String requestId) {
        List<String> ids = p.list("ImageId");
        List<String> owners = p.list("Owner");
        List<Filter> filters = filters(p, "Filter", IMAGE_FILTERS);
        List<Image> candidates = new ArrayList<>();
        if (ids.isEmpty()) {
            images.values().stream().filter(i -> !hidden(i.createdAt, "DescribeImages")).forEach(candidates::add);
        } else {
            List<String> missing = new ArrayList<>();
            for (String id : ids) {
                try {
                    candidates.add(requireImage(id, "DescribeImages"));
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
        if (!owners.isEmpty() && !owners.contains("self") && !owners.contains(cfg.accountId)) {
            candidates.clear();
        }
        List<Image> matched = applyFilters(candidates, filters, i -> i.tags, this::imageField);
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
            case "owner-id" -> f.matches(cfg.accountId);
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
                .el("imageLocation", img.imageLocation != null ? img.imageLocation : cfg.accountId + "/" + img.name)
                .el("imageState", img.state)
                .el("imageOwnerId", cfg.accountId)
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
                .el("enaSupport", b(img.enaSupport))
                .el("sriovNetSupport", img.sriovNetSupport)
                .el("bootMode", img.bootMode)
                .el("tpmSupport", img.tpmSupport)
                .el("imdsSupport", img.imdsSupport)
                .close();
    }

    private String deregisterImage(QueryParams p, String requestId) {
        Image img = requireImage(p.require("ImageId"), "DeregisterImage");
        images.remove(img.id);
        Xml x = Xml.response("DeregisterImage", requestId).el("return", "true");
        if (Boolean.TRUE.equals(p.getBool("DeleteAssociatedSnapshots"))) {
            x.open("deleteSnapshotResultSet");
            for (BlockDevice bd : img.mappings) {
                if (bd.snapshotId == null) {
                    continue;
                }
                String user = imageUsing(bd.snapshotId);
                if (user == null && snapshots.remove(bd.snapshotId) != null) {
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
        for (Image img : images.values()) {
            for (BlockDevice bd : img.mappings) {
                if (snapshotId.equals(bd.snapshotId)) {
                    return img.id;
                }
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- snapshots

    private String deleteSnapshot(QueryParams p, String requestId) {
        Snap s = requireSnapshot(p.require("SnapshotId"), "DeleteSnapshot");
        String user = imageUsing(s.id);
        if (user != null) {
            throw Ec2Exception.client("InvalidSnapshot.InUse", "The snapshot " + s.id + " is currently in use by " + user);
        }
        snapshots.remove(s.id);
        return Xml.response("DeleteSnapshot", requestId).el("return", "true").finish();
    }

    private static final Set<String> SNAPSHOT_FILTERS = Set.of("tag-key", "tag-value", "status", "snapshot-id",
            "owner-id", "description", "volume-size", "encrypted", "volume-id", "progress");

    private String describeSnapshots(QueryParams p, String requestId) {
        List<String> ids = p.list("SnapshotId");
        List<String> owners = p.list("Owner");
        List<Filter> filters = filters(p, "Filter", SNAPSHOT_FILTERS);
        List<Snap> candidates = new ArrayList<>();
        if (ids.isEmpty()) {
            snapshots.values().stream().filter(s -> !hidden(s.createdAt, "DescribeSnapshots")).forEach(candidates::add);
        } else {
            for (String id : ids) {
                candidates.add(requireSnapshot(id, "DescribeSnapshots"));
            }
        }
        if (!owners.isEmpty() && !owners.contains("self") && !owners.contains(cfg.accountId)) {
            candidates.clear();
        }
        List<Snap> matched = applyFilters(candidates, filters, s -> s.tags, (s, f) -> switch (f.name()) {
            case "status" -> f.matches(s.state);
            case "snapshot-id" -> f.matches(s.id);
            case "owner-id" -> f.matches(cfg.accountId);
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
                    .el("ownerId", cfg.accountId)
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

    // ---------------------------------------------------------------- tags

    private Map<String, String> tagsOf(String resourceId, String action) {
        if (resourceId.startsWith("i-")) {
            return requireInstance(resourceId, action).tags;
        }
        if (resourceId.startsWith("ami-")) {
            return requireImage(resourceId, action).tags;
        }
        if (resourceId.startsWith("snap-")) {
            return requireSnapshot(resourceId, action).tags;
        }
        if (resourceId.startsWith("import-snap-")) {
            return requireTask(resourceId, action).tags;
        }
        if (resourceId.startsWith("vol-")) {
            Volume v = volumes.get(resourceId);
            if (v == null || v.deleted || hidden(v.createdAt, action)) {
                throw Ec2Exception.client("InvalidVolume.NotFound", "The volume '" + resourceId + "' does not exist.");
            }
            return v.tags;
        }
        if (!resourceId.matches("[a-z][a-z0-9-]*-[0-9a-f]{8,17}")) {
            throw Ec2Exception.client("InvalidID", "The ID '" + resourceId + "' is not valid");
        }
        return otherTags.computeIfAbsent(resourceId, r -> new LinkedHashMap<>());
    }

    private String createTags(QueryParams p, String requestId) {
        List<String> resources = p.list("ResourceId");
        if (resources.isEmpty()) {
            throw Ec2Exception.client("MissingParameter", "The request must contain the parameter resourceIdSet");
        }
        Map<String, String> newTags = new LinkedHashMap<>();
        for (QueryParams t : p.structs("Tag")) {
            String key = t.require("Key");
            checkTagKey(key);
            String value = t.get("Value", "");
            if (value.length() > 256) {
                throw Ec2Exception.client("InvalidParameterValue", "Tag value exceeds the maximum length of 256 characters");
            }
            newTags.put(key, value);
        }
        if (newTags.isEmpty()) {
            throw Ec2Exception.client("MissingParameter", "The request must contain the parameter tagSet");
        }
        List<Map<String, String>> targets = new ArrayList<>();
        for (String r : resources) {
            Map<String, String> tags = tagsOf(r, "CreateTags");
            Set<String> keys = new HashSet<>(tags.keySet());
            keys.addAll(newTags.keySet());
            if (keys.size() > 50) {
                throw Ec2Exception.client("TagLimitExceeded",
                        "The maximum number of Tags for a resource has been reached.");
            }
            targets.add(tags);
        }
        targets.forEach(t -> t.putAll(newTags));
        return Xml.response("CreateTags", requestId).el("return", "true").finish();
    }

    private String deleteTags(QueryParams p, String requestId) {
        List<String> resources = p.list("ResourceId");
        if (resources.isEmpty()) {
            throw Ec2Exception.client("MissingParameter", "The request must contain the parameter resourceIdSet");
        }
        List<QueryParams> tags = p.structs("Tag");
        List<Map<String, String>> targets = new ArrayList<>();
        for (String r : resources) {
            targets.add(tagsOf(r, "DeleteTags"));
        }
        for (Map<String, String> t : targets) {
            if (tags.isEmpty()) {
                t.clear();
            }
            for (QueryParams tag : tags) {
                String key = tag.require("Key");
                String value = tag.get("Value");
                if (value == null || value.equals(t.get(key))) {
                    t.remove(key);
                }
            }
        }
        return Xml.response("DeleteTags", requestId).el("return", "true").finish();
    }

    // ---------------------------------------------------------------- direct seeding and views

    synchronized String seedSnapshot(int sizeGiB, Map<String, String> tags) {
        Snap s = new Snap();
        s.id = newId("snap-");
        s.description = "seeded by FakeEc2";
        s.volumeSize = sizeGiB;
        s.startTime = now();
        s.createdAt = s.startTime;
        s.tags.putAll(tags);
        snapshots.put(s.id, s);
        return s.id;
    }

    synchronized String seedImage(String name, String snapshotId, Map<String, String> tags) {
        for (Image other : images.values()) {
            if (other.name.equals(name)) {
                throw new IllegalArgumentException("AMI name " + name + " is already in use by " + other.id);
            }
        }
        Snap s = snapshots.get(snapshotId);
        if (s == null) {
            throw new IllegalArgumentException("no snapshot " + snapshotId);
        }
        Image img = new Image();
        img.id = newId("ami-");
        img.name = name;
        img.architecture = "x86_64";
        img.rootDeviceName = "/dev/xvda";
        img.virtualizationType = "hvm";
        img.enaSupport = true;
        img.bootMode = "uefi";
        img.imdsSupport = "v2.0";
        img.createdAt = now();
        BlockDevice bd = new BlockDevice();
        bd.deviceName = "/dev/xvda";
        bd.snapshotId = snapshotId;
        bd.volumeSize = s.volumeSize;
        bd.volumeType = "gp3";
        bd.deleteOnTermination = true;
        img.mappings.add(bd);
        img.tags.putAll(tags);
        images.put(img.id, img);
        return img.id;
    }

    synchronized List<Views.InstanceView> instanceViews() {
        return instances.values().stream().map(this::view).toList();
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

    synchronized List<Views.ImageView> imageViews() {
        return images.values().stream().map(img -> new Views.ImageView(img.id, img.name, img.state,
                Map.copyOf(img.tags), img.mappings.stream().map(bd -> bd.snapshotId).filter(Objects::nonNull).toList(),
                img.rootDeviceName, img.architecture, img.enaSupport, img.bootMode, img.imdsSupport)).toList();
    }

    synchronized List<Views.SnapshotView> snapshotViews() {
        return snapshots.values().stream().map(s -> new Views.SnapshotView(s.id, s.state, s.volumeSize,
                Map.copyOf(s.tags), s.importTaskId, s.description)).toList();
    }

    synchronized List<Views.ImportTaskView> importTaskViews() {
        return tasks.values().stream().map(t -> new Views.ImportTaskView(t.id, t.status, t.statusMessage,
                t.snapshotId, t.bucket, t.key, t.format, t.roleName, Map.copyOf(t.tags), t.polls)).toList();
    }

    synchronized Map<String, Map<String, String>> otherResourceTags() {
        return otherTags.entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> Map.copyOf(e.getValue())));
    }
}
