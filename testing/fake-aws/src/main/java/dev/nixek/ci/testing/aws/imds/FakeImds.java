package dev.nixek.ci.testing.aws.imds;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake EC2 instance metadata service (IMDSv2) for ONE instance, on 127.0.0.1.
 *
 * <ul>
 *   <li>{@code PUT /latest/api/token} with {@code X-aws-ec2-metadata-token-ttl-seconds: 1..21600} → 200 and a
 *       token (the TTL is echoed in the same header); a missing or out-of-range TTL → 400; a request carrying
 *       {@code X-Forwarded-For} → 403 (the real IMDS refuses proxied token requests).</li>
 *   <li>{@code GET /latest/user-data}, {@code /latest/meta-data/instance-id} (and a few other meta-data paths)
 *       need {@code X-aws-ec2-metadata-token} with a valid, unexpired token; a missing token → 401 (IMDSv2
 *       required, i.e. HttpTokens=required, unless {@link Builder#allowImdsV1(boolean)}), an invalid or expired
 *       one → 401. No user data → 404. {@code GET /latest/api/token} → 405.</li>
 *   <li>Unavailability for an agent's retry tests: the first N requests answered 503
 *       ({@link Builder#unavailableForFirst(int)}), 503 for a while after start ({@link Builder#unavailableFor}),
 *       or the port refusing connections for a while after start ({@link Builder#refuseConnectionsFor}) or
 *       between {@link #stopListening()} and {@link #startListening()}.</li>
 *   <li>A restarted service: with {@link Builder#forgetTokensOnce()} the first read carrying a valid token finds
 *       every token forgotten (401), so the client has to get a new one.</li>
 * </ul>
 * Every request is recorded ({@link #requests()}).
 */
public final class FakeImds implements AutoCloseable {

    public static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";
    public static final String TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
    public static final int MAX_TTL_SECONDS = 21600;
    /** Every token starts with this (as the real service's do), so a test can look for leaked tokens. */
    public static final String TOKEN_PREFIX = "AQAEA";

    /** One request received (or refused) by the fake. */
    public record Request(String method, String path, boolean hadToken, int status, Instant at) {
        /** {@code "PUT /latest/api/token -> 200"}: what a test asserts a sequence of. */
        public String line() {
            return method + " " + path + " -> " + status;
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String userData;
    private final String instanceId;
    private final Map<String, String> metaData;
    private final boolean allowImdsV1;
    private final int unavailableFirstN;
    private final Instant unavailableUntil;
    private final AtomicBoolean forgetTokensOnce;
    private final AtomicInteger seen = new AtomicInteger();
    private final Map<String, Long> tokens = new ConcurrentHashMap<>(); // token -> expiry (System.nanoTime)
    private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    private final ExecutorService threads;
    private final ScheduledExecutorService delayedStart;
    private final int port;
    private volatile HttpServer server;
    private volatile boolean closed;

    private FakeImds(Builder b) throws IOException {
        this.userData = b.userData;
        this.instanceId = b.instanceId;
        this.metaData = Map.copyOf(b.metaData);
        this.allowImdsV1 = b.allowImdsV1;
        this.unavailableFirstN = b.unavailableFirstN;
        this.forgetTokensOnce = new AtomicBoolean(b.forgetTokensOnce);
        this.unavailableUntil = b.unavailableFor == null ? null : Instant.now().plus(b.unavailableFor);
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-imds");
            t.setDaemon(true);
            return t;
        });
        this.delayedStart = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fake-imds-start");
            t.setDaemon(true);
            return t;
        });
        if (b.refuseFor == null || b.refuseFor.isZero()) {
            this.server = bind(0);
            this.port = server.getAddress().getPort();
        } else {
            // Reserve a port number, release it, and only listen on it after the delay: until then connections
            // are refused, as they are while a real IMDS is not reachable yet.
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                this.port = probe.getLocalPort();
            }
            delayedStart.schedule(() -> {
                try {
                    if (!closed) {
                        server = bind(port);
                    }
                } catch (IOException e) {
                    throw new IllegalStateException("fake IMDS could not bind port " + port + " after the delay", e);
                }
            }, b.refuseFor.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    private HttpServer bind(int p) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), p), 16);
        s.setExecutor(threads);
        s.createContext("/", this::serve);
        s.start();
        return s;
    }

    /** {@code http://127.0.0.1:<port>} (what an agent would use instead of {@code http://169.254.169.254}). */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Whether the fake is listening yet (false during {@link Builder#refuseConnectionsFor}). */
    public boolean listening() {
        return server != null;
    }

    public List<Request> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    /** Stops listening: connections are refused (a metadata service not up yet) until {@link #startListening()}. */
    public synchronized void stopListening() {
        HttpServer s = server;
        server = null;
        if (s != null) {
            s.stop(0);
        }
    }

    /** Listens again on the same port after {@link #stopListening()}. */
    public synchronized void startListening() {
        if (server != null || closed) {
            return;
        }
        try {
            server = bind(port);
        } catch (IOException e) {
            throw new IllegalStateException("fake IMDS could not bind port " + port + " again", e);
        }
    }

    /** Makes every issued token expired (the next GET with it gets 401). */
    public void expireAllTokens() {
        tokens.replaceAll((t, exp) -> System.nanoTime() - 1);
    }

    @Override
    public synchronized void close() {
        closed = true;
        delayedStart.shutdownNow();
        HttpServer s = server;
        if (s != null) {
            s.stop(0);
        }
        threads.shutdownNow();
    }

    private void serve(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            in.readAllBytes();
        }
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        String token = ex.getRequestHeaders().getFirst(TOKEN_HEADER);
        int n = seen.incrementAndGet();
        int status;
        String body;
        String ttlEcho = null;
        if (n <= unavailableFirstN || unavailableUntil != null && Instant.now().isBefore(unavailableUntil)) {
            status = 503;
            body = "Service Unavailable";
        } else if (path.equals("/latest/api/token")) {
            if (!method.equals("PUT")) {
                status = 405;
                body = "Method Not Allowed";
            } else if (ex.getRequestHeaders().containsKey("X-Forwarded-For")) {
                status = 403;
                body = "Forbidden";
            } else {
                Integer ttl = parseTtl(ex.getRequestHeaders().getFirst(TTL_HEADER));
                if (ttl == null) {
                    status = 400;
                    body = "Bad Request";
                } else {
                    byte[] raw = new byte[32];
                    RANDOM.nextBytes(raw);
                    String t = TOKEN_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
                    tokens.put(t, System.nanoTime() + TimeUnit.SECONDS.toNanos(ttl));
                    status = 200;
                    body = t;
                    ttlEcho = String.valueOf(ttl);
                }
            }
        } else if (!method.equals("GET") && !method.equals("HEAD")) {
            status = 405;
            body = "Method Not Allowed";
        } else if (token != null && validToken(token) && forgetTokensOnce.compareAndSet(true, false)) {
            tokens.clear();
            status = 401;
            body = "Unauthorized";
        } else if (token == null ? !allowImdsV1 : !validToken(token)) {
            status = 401;
            body = "Unauthorized";
        } else {
            String value = lookup(path);
            if (value == null) {
                status = 404;
                body = "Not Found";
            } else {
                status = 200;
                body = value;
            }
        }
        requests.add(new Request(method, path, token != null, status, Instant.now()));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain");
        ex.getResponseHeaders().set("Server", "EC2ws");
        if (ttlEcho != null) {
            ex.getResponseHeaders().set(TTL_HEADER, ttlEcho);
        }
        boolean head = method.equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            if (!head) {
                out.write(bytes);
            }
        }
    }

    private static Integer parseTtl(String header) {
        if (header == null) {
            return null;
        }
        try {
            int ttl = Integer.parseInt(header.trim());
            return ttl >= 1 && ttl <= MAX_TTL_SECONDS ? ttl : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private boolean validToken(String token) {
        Long expiry = tokens.get(token);
        return expiry != null && System.nanoTime() - expiry < 0;
    }

    private String lookup(String path) {
        String p = path.endsWith("/") && path.length() > 1 && !path.equals("/latest/meta-data/")
                ? path.substring(0, path.length() - 1) : path;
        switch (p) {
            case "/latest/user-data":
                return userData;
            case "/latest/meta-data/instance-id":
                return instanceId;
            case "/latest/meta-data/":
            case "/latest/meta-data": {
                List<String> keys = new ArrayList<>();
                keys.add("instance-id");
                keys.addAll(metaData.keySet());
                Collections.sort(keys);
                return String.join("\n", keys);
            }
            default:
                if (p.startsWith("/latest/meta-data/")) {
                    return metaData.get(p.substring("/latest/meta-data/".length()));
                }
                return null;
        }
    }

    /** Settings of a {@link FakeImds}. */
    public static final class Builder {
        private String userData;
        private String instanceId = "i-0123456789abcdef0";
        private final Map<String, String> metaData = new java.util.LinkedHashMap<>(Map.of(
                "placement/region", "us-east-1",
                "placement/availability-zone", "us-east-1a",
                "instance-type", "t3.micro",
                "local-ipv4", "10.0.0.10"));
        private boolean allowImdsV1;
        private int unavailableFirstN;
        private Duration unavailableFor;
        private Duration refuseFor;
        private boolean forgetTokensOnce;

        private Builder() {
        }

        /** The user data served at {@code /latest/user-data} (none: 404, as on an instance without user data). */
        public Builder userData(String userData) {
            this.userData = userData;
            return this;
        }

        public Builder instanceId(String instanceId) {
            this.instanceId = Objects.requireNonNull(instanceId);
            return this;
        }

        /** An extra {@code /latest/meta-data/<key>} value, e.g. {@code ("instance-type", "c7g.large")}. */
        public Builder metaData(String key, String value) {
            metaData.put(key, value);
            return this;
        }

        /** Accept token-less GETs (HttpTokens=optional). Default false: IMDSv2 required. */
        public Builder allowImdsV1(boolean allow) {
            this.allowImdsV1 = allow;
            return this;
        }

        /** The first {@code n} requests (of any kind) are answered 503. */
        public Builder unavailableForFirst(int n) {
            this.unavailableFirstN = n;
            return this;
        }

        /** Every request during {@code d} after start is answered 503. */
        public Builder unavailableFor(Duration d) {
            this.unavailableFor = d;
            return this;
        }

        /** The port refuses connections during {@code d} after start (nothing listens yet). */
        public Builder refuseConnectionsFor(Duration d) {
            this.refuseFor = d;
            return this;
        }

        /** The first read with a valid token finds every token forgotten (401), as after a service restart. */
        public Builder forgetTokensOnce() {
            this.forgetTokensOnce = true;
            return this;
        }

        public FakeImds start() {
            try {
                return new FakeImds(this);
            } catch (IOException e) {
                throw new IllegalStateException("cannot start the fake IMDS", e);
            }
        }
    }
}
