package dev.nixek.ci.testing.kube;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites container paths to host paths inside strings (command, args, env values).
 *
 * <p>A container path P (a volume's mountPath, the workingDir, the terminationMessagePath) is replaced by its
 * host path wherever it occurs as a whole path prefix: not preceded by a path character or {@code /}, and
 * followed by {@code /}, the end, or a character that cannot continue a file name. So {@code /nixek} matches
 * in {@code /nixek/job.nix}, {@code --in=/nixek/x}, {@code PATH=/nixek/bin:/bin} and
 * {@code sh -c "cat /nixek/a > /dev/termination-log"}, but not in {@code /nixek2}, {@code /opt/nixek} or
 * {@code a/nixek}. The longest matching container path wins; each string is rewritten in one pass, so a host
 * path is never rewritten again.
 */
public final class PathRewriter {

    /** Characters that may continue a file name (besides '/'). */
    private static final String NAME_CHARS = "A-Za-z0-9._~+@%\\-";

    private final Map<String, String> mappings;
    private final Pattern pattern;

    /** @param containerToHost container path to host path; "/" and blank paths are ignored */
    public PathRewriter(Map<String, String> containerToHost) {
        Map<String, String> m = new LinkedHashMap<>();
        containerToHost.forEach((c, h) -> {
            String n = normalize(c);
            if (n != null) {
                m.put(n, h);
            }
        });
        List<String> keys = new ArrayList<>(m.keySet());
        keys.sort(Comparator.comparingInt(String::length).reversed().thenComparing(Function.identity()));
        this.mappings = m;
        if (keys.isEmpty()) {
            this.pattern = null;
        } else {
            StringBuilder alt = new StringBuilder();
            for (String k : keys) {
                if (alt.length() > 0) {
                    alt.append('|');
                }
                alt.append(Pattern.quote(k));
            }
            this.pattern = Pattern.compile("(?<![" + NAME_CHARS + "/])(" + alt + ")(?=/|$|[^" + NAME_CHARS + "])");
        }
    }

    /** A container path without trailing slashes; null for "/" and blanks. */
    static String normalize(String containerPath) {
        if (containerPath == null) {
            return null;
        }
        String s = containerPath.strip();
        while (s.length() > 1 && s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.isEmpty() || s.equals("/") || !s.startsWith("/")) {
            return null;
        }
        return s;
    }

    /** The rewritten string (null stays null). */
    public String rewrite(String s) {
        if (s == null || pattern == null) {
            return s;
        }
        Matcher m = pattern.matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(mappings.get(m.group(1))));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Each string rewritten. */
    public List<String> rewrite(List<String> strings) {
        List<String> out = new ArrayList<>(strings.size());
        for (String s : strings) {
            out.add(rewrite(s));
        }
        return out;
    }

    /** True if {@code containerPath} is a mapped path or lies below one. */
    public boolean covers(String containerPath) {
        String n = normalize(containerPath);
        if (n == null) {
            return false;
        }
        for (String k : mappings.keySet()) {
            if (n.equals(k) || n.startsWith(k + "/")) {
                return true;
            }
        }
        return false;
    }

    /** The mappings, container path to host path. */
    public Map<String, String> mappings() {
        return Map.copyOf(mappings);
    }

    /**
     * Kubernetes' {@code $(VAR)} expansion of command, args and env values: {@code $(NAME)} becomes the
     * variable's value when it is defined and stays as it is otherwise; {@code $$} becomes {@code $}.
     * (A port of k8s.io/kubernetes/third_party/forked/golang/expansion.)
     */
    public static String expand(String input, Map<String, String> vars) {
        if (input == null) {
            return null;
        }
        StringBuilder buf = new StringBuilder();
        int checkpoint = 0;
        for (int cursor = 0; cursor < input.length(); cursor++) {
            if (input.charAt(cursor) == '$' && cursor + 1 < input.length()) {
                buf.append(input, checkpoint, cursor);
                String rest = input.substring(cursor + 1);
                char first = rest.charAt(0);
                int advance = 1;
                if (first == '$') {
                    buf.append('$');
                } else if (first == '(') {
                    int close = rest.indexOf(')', 1);
                    if (close > 0) {
                        String name = rest.substring(1, close);
                        String value = vars.get(name);
                        buf.append(value != null ? value : "$(" + name + ")");
                        advance = close + 1;
                    } else {
                        buf.append("$(");
                    }
                } else {
                    buf.append('$').append(first);
                }
                cursor += advance;
                checkpoint = cursor + 1;
            }
        }
        if (checkpoint < input.length()) {
            buf.append(input, checkpoint, input.length());
        }
        return buf.toString();
    }
}
