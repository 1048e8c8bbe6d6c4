package dev.nixek.ci.testing.aws.ec2;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;

/** A tiny streaming XML writer for EC2 responses (element names as in the SDK's shape model). */
final class Xml {

    static final String NS = "http://ec2.amazonaws.com/doc/2016-11-15/";

    private final StringBuilder sb = new StringBuilder(1024);
    private final Deque<String> open = new ArrayDeque<>();

    Xml() {
        sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }

    static Xml response(String action, String requestId) {
        Xml x = new Xml();
        x.sb.append('<').append(action).append("Response xmlns=\"").append(NS).append("\">");
        x.open.push(action + "Response");
        x.el("requestId", requestId);
        return x;
    }

    /** {@code "true"}/{@code "false"}, or null (the element left out) for null. */
    static String bool(Boolean v) {
        return v == null ? null : v.toString();
    }

    Xml open(String name) {
        sb.append('<').append(name).append('>');
        open.push(name);
        return this;
    }

    Xml close() {
        sb.append("</").append(open.pop()).append('>');
        return this;
    }

    Xml el(String name, Object value) {
        if (value == null) {
            return this;
        }
        String text;
        if (value instanceof Instant i) {
            text = time(i);
        } else {
            text = value.toString();
        }
        sb.append('<').append(name).append('>');
        escape(text);
        sb.append("</").append(name).append('>');
        return this;
    }

    /** {@code <tagSet><item><key/><value/></item>...</tagSet>}; omitted when there are no tags. */
    Xml tagSet(Map<String, String> tags) {
        if (tags == null || tags.isEmpty()) {
            return this;
        }
        open("tagSet");
        tags.forEach((k, v) -> open("item").el("key", k).el("value", v == null ? "" : v).close());
        return close();
    }

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** EC2's timestamp form, e.g. {@code 2026-11-25T23:43:41.000Z}. */
    static String time(Instant i) {
        return TIME.format(i);
    }

    private void escape(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&apos;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
                        sb.append("&#").append((int) c).append(';');
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
    }

    String finish() {
        while (!open.isEmpty()) {
            close();
        }
        return sb.toString();
    }

    static String error(String code, String message, String requestId) {
        Xml x = new Xml();
        x.open("Response").open("Errors").open("Error").el("Code", code).el("Message", message).close().close()
                .el("RequestID", requestId);
        return x.finish();
    }
}
