package dev.nixek.ci.testing.aws.ec2;

import dev.nixek.ci.testing.aws.ec2.Ec2Filters.Filter;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.BlockDevice;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Image;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Inst;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Resv;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Volume;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The instance actions: RunInstances (parameter checks, client-token idempotency, volumes from the image's block
 * device mappings), DescribeInstances (filters, pages), TerminateInstances and DescribeInstanceAttribute. Called
 * with the {@link Ec2State} lock held.
 */
final class InstanceActions {

    private static final int USER_DATA_LIMIT = 16 * 1024;

    private final Ec2State state;
    private final InstanceXml xml;

    InstanceActions(Ec2State state) {
        this.state = state;
        this.xml = new InstanceXml(state.cfg);
    }

    // RunInstances

    String runInstances(QueryParams p, String requestId) {
        Instant now = state.now();
        String token = p.get("ClientToken");
        Map<String, String> fingerprint = p.fingerprint("Action", "Version", "ClientToken");
        if (token != null && !token.isEmpty()) {
            if (token.length() > 64) {
                throw Ec2Exception.client("InvalidParameterValue", "The client token must not exceed 64 characters");
            }
            Resv existing = state.runTokens.get(token);
            if (existing != null) {
                if (!existing.fingerprint.equals(fingerprint)) {
                    throw Ec2Exception.client("IdempotentParameterMismatch",
                            "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).");
                }
                boolean allTerminated = existing.instances.stream().allMatch(i -> i.state == InstanceState.TERMINATED);
                if (allTerminated && state.cfg.terminatedTokenBehavior == TerminatedTokenBehavior.ERROR) {
                    throw Ec2Exception.client("IdempotentInstanceTerminated",
                            "The request to launch an instance uses the same client token as a previous request "
                                    + "for which the instance has been terminated.");
                }
                Xml x = Xml.response("RunInstances", requestId);
                xml.reservationBody(x, existing, existing.instances);
                return x.finish();
            }
        }
        Image img = state.requireImage(p.require("ImageId"), "RunInstances");
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
            profileArn = "arn:aws:iam::" + state.cfg.accountId + ":instance-profile/" + profileName;
        }
        Map<String, Map<String, String>> tagSpecs = Ec2Tags.tagSpecs(p, "RunInstances",
                Set.of("instance", "volume", "network-interface", "spot-state.instances-request"));
        if (spot) {
            Ec2Faults.Fault f = state.faults.nextSpotFault();
            if (f != null) {
                throw new Ec2Exception(f.status(), f.code(), f.message());
            }
        }
        Map<String, QueryParams> bdmOverrides = new HashMap<>();
        for (QueryParams m : p.structs("BlockDeviceMapping")) {
            bdmOverrides.put(m.require("DeviceName"), m);
        }

        Resv r = new Resv();
        r.id = Ec2State.newId("r-");
        r.clientToken = token;
        r.fingerprint = fingerprint;
        String az = state.cfg.region + "a";
        for (int n = 0; n < max; n++) {
            Inst i = new Inst();
            i.id = Ec2State.newId("i-");
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
            i.iamProfileId = profileArn == null ? null : "AIPA" + Ec2State.newId("").toUpperCase(Locale.ROOT);
            i.spot = spot;
            i.spotRequestId = spot ? Ec2State.newId("sir-").substring(0, 12) : null;
            i.launchIndex = n;
            i.privateIp = "10.0." + Ec2State.RANDOM.nextInt(256) + "." + (1 + Ec2State.RANDOM.nextInt(254));
            i.tags.putAll(tagSpecs.getOrDefault("instance", Map.of()));
            for (BlockDevice bd : img.mappings) {
                if (bd.snapshotId == null && bd.volumeSize == null) {
                    continue;
                }
                QueryParams o = bdmOverrides.get(bd.deviceName);
                Volume v = new Volume();
                v.id = Ec2State.newId("vol-");
                v.deviceName = bd.deviceName;
                v.snapshotId = bd.snapshotId;
                Integer size = o == null ? null : o.getInt("Ebs.VolumeSize");
                v.size = size != null ? size : bd.volumeSize != null ? bd.volumeSize
                        : state.snapshots.containsKey(bd.snapshotId) ? state.snapshots.get(bd.snapshotId).volumeSize : 8;
                v.type = o != null && o.get("Ebs.VolumeType") != null ? o.get("Ebs.VolumeType")
                        : bd.volumeType != null ? bd.volumeType : "gp2";
                Boolean dot = o == null ? null : o.getBool("Ebs.DeleteOnTermination");
                v.deleteOnTermination = dot != null ? dot : bd.deleteOnTermination == null || bd.deleteOnTermination;
                v.encrypted = Boolean.TRUE.equals(bd.encrypted);
                v.createdAt = now;
                v.tags.putAll(tagSpecs.getOrDefault("volume", Map.of()));
                i.volumes.add(v);
                state.volumes.put(v.id, v);
            }
            r.instances.add(i);
            state.instances.put(i.id, i);
        }
        if (token != null && !token.isEmpty()) {
            state.runTokens.put(token, r);
        }
        Xml x = Xml.response("RunInstances", requestId);
        xml.reservationBody(x, r, r.instances);
        return x.finish();
    }

    // DescribeInstances

    private static final Set<String> INSTANCE_FILTERS = Set.of("tag-key", "tag-value", "instance-state-name",
            "instance-state-code", "client-token", "instance-id", "image-id", "instance-type", "subnet-id", "vpc-id",
            "reservation-id", "instance-lifecycle", "availability-zone");

    String describeInstances(QueryParams p, String requestId) {
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
        List<Filter> filters = Ec2Filters.filters(p, "Filter", INSTANCE_FILTERS);
        List<Inst> candidates = ids.isEmpty()
                ? state.instances.values().stream().filter(i -> state.visible(i, "DescribeInstances")).toList()
                : state.requireInstances(ids, "DescribeInstances");
        List<Inst> matched = Ec2Filters.applyFilters(candidates, filters, i -> i.tags, InstanceActions::instanceField);
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
            xml.reservationBody(x, r, list);
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

    // TerminateInstances

    String terminateInstances(QueryParams p, String requestId, List<Runnable> post) {
        List<String> ids = p.list("InstanceId");
        if (ids.isEmpty()) {
            throw Ec2Exception.client("MissingParameter", "The request must contain the parameter InstanceId");
        }
        List<Inst> targets = state.requireInstances(ids, "TerminateInstances");
        Instant now = state.now();
        Xml x = Xml.response("TerminateInstances", requestId).open("instancesSet");
        for (Inst i : targets) {
            InstanceState previous = i.state;
            if (previous != InstanceState.SHUTTING_DOWN && previous != InstanceState.TERMINATED) {
                InstanceLifecycle.setState(i, InstanceState.SHUTTING_DOWN, now);
                i.stateReasonCode = "Client.UserInitiatedShutdown";
                i.stateReasonMessage = "Client.UserInitiatedShutdown: User initiated shutdown";
                i.reason = "User initiated (" + Xml.time(now).replace('T', ' ').replace(".000Z", " GMT") + ")";
                Machine m = i.machine;
                if (m != null) {
                    String id = i.id;
                    post.add(() -> InstanceLifecycle.stopMachine(id, m));
                }
            }
            x.open("item").el("instanceId", i.id)
                    .open("currentState").el("code", i.state.code()).el("name", i.state.label()).close()
                    .open("previousState").el("code", previous.code()).el("name", previous.label()).close()
                    .close();
        }
        return x.finish();
    }

    // DescribeInstanceAttribute

    String describeInstanceAttribute(QueryParams p, String requestId) {
        Inst i = state.requireInstance(p.require("InstanceId"), "DescribeInstanceAttribute");
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
}
