package dev.nixek.ci.testing.aws.ec2;

import dev.nixek.ci.testing.aws.ec2.Ec2Model.Volume;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Tags: {@code TagSpecification}s at creation, the key rules (length, the reserved {@code aws:} prefix), and
 * CreateTags / DeleteTags on any resource id (unknown resource kinds keep their tags in a side table). Called with
 * the {@link Ec2State} lock held.
 */
final class Ec2Tags {

    private final Ec2State state;

    Ec2Tags(Ec2State state) {
        this.state = state;
    }

    /** {@code TagSpecification.N.ResourceType / .Tag.M.Key / .Tag.M.Value}, by resource type. */
    static Map<String, Map<String, String>> tagSpecs(QueryParams p, String action, Set<String> allowed) {
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

    private Map<String, String> tagsOf(String resourceId, String action) {
        if (resourceId.startsWith("i-")) {
            return state.requireInstance(resourceId, action).tags;
        }
        if (resourceId.startsWith("ami-")) {
            return state.requireImage(resourceId, action).tags;
        }
        if (resourceId.startsWith("snap-")) {
            return state.requireSnapshot(resourceId, action).tags;
        }
        if (resourceId.startsWith("import-snap-")) {
            return state.requireTask(resourceId, action).tags;
        }
        if (resourceId.startsWith("vol-")) {
            Volume v = state.volumes.get(resourceId);
            if (v == null || v.deleted || state.hidden(v.createdAt, action)) {
                throw Ec2Exception.client("InvalidVolume.NotFound", "The volume '" + resourceId + "' does not exist.");
            }
            return v.tags;
        }
        if (!resourceId.matches("[a-z][a-z0-9-]*-[0-9a-f]{8,17}")) {
            throw Ec2Exception.client("InvalidID", "The ID '" + resourceId + "' is not valid");
        }
        return state.otherTags.computeIfAbsent(resourceId, r -> new LinkedHashMap<>());
    }

    String createTags(QueryParams p, String requestId) {
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

    String deleteTags(QueryParams p, String requestId) {
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
}
