package dev.nixek.ci.testing.aws.ec2;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parameters of an EC2 Query API request. The EC2 protocol flattens lists as {@code Name.N} (1-based)
 * and structures as {@code Name.Member}: {@code Filter.1.Name}, {@code Filter.1.Value.1},
 * {@code TagSpecification.1.Tag.1.Key}, {@code BlockDeviceMapping.1.Ebs.SnapshotId}.
 */
final class QueryParams {

    private static final Pattern INDEXED = Pattern.compile("^(\\d+)(?:\\.(.+))?$");

    private final Map<String, String> map;

    QueryParams(Map<String, String> map) {
        this.map = map;
    }

    static QueryParams parse(String form) {
        Map<String, String> m = new LinkedHashMap<>();
        if (form != null && !form.isEmpty()) {
            for (String pair : form.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String k = eq < 0 ? pair : pair.substring(0, eq);
                String v = eq < 0 ? "" : pair.substring(eq + 1);
                m.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
            }
        }
        return new QueryParams(m);
    }

    Map<String, String> asMap() {
        return Collections.unmodifiableMap(map);
    }

    boolean isEmpty() {
        return map.isEmpty();
    }

    String get(String name) {
        return map.get(name);
    }

    String get(String name, String dflt) {
        String v = map.get(name);
        return v == null || v.isEmpty() ? dflt : v;
    }

    String require(String name) {
        String v = map.get(name);
        if (v == null || v.isEmpty()) {
            throw Ec2Exception.client("MissingParameter", "The request must contain the parameter " + name);
        }
        return v;
    }

    Integer getInt(String name) {
        String v = map.get(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        try {
            return Integer.valueOf(v);
        } catch (NumberFormatException e) {
            throw Ec2Exception.client("InvalidParameterValue", "Value (" + v + ") for parameter " + name + " is invalid.");
        }
    }

    Boolean getBool(String name) {
        String v = map.get(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (v.equalsIgnoreCase("true")) {
            return Boolean.TRUE;
        }
        if (v.equalsIgnoreCase("false")) {
            return Boolean.FALSE;
        }
        throw Ec2Exception.client("InvalidParameterValue", "Value (" + v + ") for parameter " + name + " is invalid.");
    }

    /** The sub-structure {@code prefix.*}, with the prefix removed. */
    QueryParams sub(String prefix) {
        String p = prefix + ".";
        Map<String, String> m = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            if (k.startsWith(p)) {
                m.put(k.substring(p.length()), v);
            }
        });
        return new QueryParams(m);
    }

    /** The scalar list {@code prefix.1, prefix.2, ...}, in index order. */
    List<String> list(String prefix) {
        TreeMap<Integer, String> byIndex = new TreeMap<>();
        String p = prefix + ".";
        map.forEach((k, v) -> {
            if (k.startsWith(p)) {
                Matcher m = INDEXED.matcher(k.substring(p.length()));
                if (m.matches() && m.group(2) == null) {
                    byIndex.put(Integer.valueOf(m.group(1)), v);
                }
            }
        });
        return new ArrayList<>(byIndex.values());
    }

    /** The structure list {@code prefix.N.*}, in index order. */
    List<QueryParams> structs(String prefix) {
        TreeMap<Integer, Map<String, String>> byIndex = new TreeMap<>();
        String p = prefix + ".";
        map.forEach((k, v) -> {
            if (k.startsWith(p)) {
                Matcher m = INDEXED.matcher(k.substring(p.length()));
                if (m.matches() && m.group(2) != null) {
                    byIndex.computeIfAbsent(Integer.valueOf(m.group(1)), i -> new LinkedHashMap<>()).put(m.group(2), v);
                }
            }
        });
        List<QueryParams> out = new ArrayList<>();
        byIndex.values().forEach(s -> out.add(new QueryParams(s)));
        return out;
    }

    /** All parameters except the given ones, sorted: the identity of a request for idempotency checks. */
    Map<String, String> fingerprint(String... excluded) {
        TreeMap<String, String> t = new TreeMap<>(map);
        for (String e : excluded) {
            t.remove(e);
        }
        return t;
    }

    @Override
    public String toString() {
        return map.toString();
    }
}
