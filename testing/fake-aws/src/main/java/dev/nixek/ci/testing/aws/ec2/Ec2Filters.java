package dev.nixek.ci.testing.aws.ec2;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * EC2 Describe* filters: {@code Filter.N.Name / .Value.M} parsing, the {@code *}/{@code ?} wildcards, the shared
 * {@code tag:<key>}, {@code tag-key} and {@code tag-value} filters, and applying a list of them to resources.
 */
final class Ec2Filters {

    private Ec2Filters() {
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

    static List<Filter> filters(QueryParams p, String prefix, Set<String> names) {
        List<Filter> out = new ArrayList<>();
        for (QueryParams f : p.structs(prefix)) {
            String name = f.require("Name");
            boolean ok = names.contains(name) || name.startsWith("tag:") && name.length() > 4;
            if (!ok) {
                throw Ec2Exception.client("InvalidParameterValue", "The filter '" + name + "' is invalid");
            }
            List<String> values = f.list("Value");
            List<Pattern> patterns = values.stream().map(Ec2Filters::wildcard).toList();
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
    static Boolean tagFilter(Filter f, Map<String, String> tags) {
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

    static <T> List<T> applyFilters(Collection<T> items, List<Filter> filters,
                                            Function<T, Map<String, String>> tags,
                                            BiFunction<T, Filter, Boolean> field) {
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
}
