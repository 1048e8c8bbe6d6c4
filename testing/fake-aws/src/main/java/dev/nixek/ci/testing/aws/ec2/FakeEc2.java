package dev.nixek.ci.testing.aws.ec2;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.nixek.ci.testing.aws.AwsTestClients;
import dev.nixek.ci.testing.aws.QuietLogging;
import dev.nixek.ci.testing.aws.S3ObjectLookup;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.Ec2ClientBuilder;

/**
 * A stateful fake of the EC2 Query API on 127.0.0.1, for the real AWS SDK v2 {@link Ec2Client}.
 *
 * <p>Implemented actions: RunInstances, DescribeInstances, TerminateInstances, DescribeInstanceAttribute,
 * ImportSnapshot, DescribeImportSnapshotTasks, RegisterImage, DescribeImages, DeregisterImage, DescribeSnapshots,
 * DeleteSnapshot, CreateTags, DeleteTags. Anything else answers {@code InvalidAction} (HTTP 400).
 *
 * <p>Requests must carry a SigV4 {@code Authorization} header; the signature is not checked, the access key is
 * recorded in {@link #calls()}. Errors use EC2's {@code <Response><Errors><Error>} body with 400 for client
 * errors, 500 {@code InternalError}, 503 {@code RequestLimitExceeded}/{@code Unavailable}, so the SDK raises
 * {@code Ec2Exception} with the right {@code awsErrorDetails().errorCode()}.
 *
 * <p>Semantics worth knowing (all configurable through {@link Builder}):
 * <ul>
 *   <li>Instances go pending(0) → running(16) after {@code pendingPolls} DescribeInstances observations or
 *       {@code pendingTime}, whichever comes first; TerminateInstances moves them to shutting-down(32), then
 *       terminated(48) the same way ({@code shuttingDownPolls} / {@code shuttingDownTime}). Terminated instances
 *       stay visible for {@code terminatedVisibility} (1 h, like AWS), then DescribeInstances no longer knows them.</li>
 *   <li>RunInstances ClientToken: the same token and the same parameters return the original reservation (same
 *       reservation and instance ids, current states) without launching; the same token with different parameters
 *       fails {@code IdempotentParameterMismatch}; once every instance of the token is terminated a replay fails
 *       {@code IdempotentInstanceTerminated} (or returns the original, see {@link TerminatedTokenBehavior}). A token
 *       stays valid until {@code clientTokenExpiry} after its last instance terminated (default: forever; AWS
 *       documents "at least 24 hours after the termination of the instance"). Tokens are regional (one fake = one
 *       region). ImportSnapshot honours ClientToken the same way.</li>
 *   <li>ImportSnapshot tasks report {@code active/pending}, then {@code active/downloading/converting} with a
 *       progress, and {@code completed} with a SnapshotId on the {@code importPolls}-th DescribeImportSnapshotTasks
 *       observation (or {@code deleted} with the message given to {@link #failNextImport}).</li>
 * </ul>
 */
public final class FakeEc2 implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FakeEc2.class);
    private static final Pattern CREDENTIAL = Pattern.compile("Credential=([^/,\\s]+)/");

    private final Ec2Config cfg;
    private final Ec2Faults faults = new Ec2Faults();
    private final Ec2Backend backend;
    private final List<Ec2Call> calls = Collections.synchronizedList(new ArrayList<>());
    private final HttpServer server;
    private final ExecutorService requestThreads;
    private final ExecutorService guestThreads;
    private final ScheduledExecutorService ticker;
    private final URI endpoint;

    private FakeEc2(Ec2Config cfg) throws IOException {
        QuietLogging.quietThirdPartyLoggers();
        this.cfg = cfg;
        this.backend = new Ec2Backend(cfg, faults, this);
        this.requestThreads = Executors.newCachedThreadPool(daemon("fake-ec2-http"));
        this.guestThreads = Executors.newCachedThreadPool(daemon("fake-ec2-guest"));
        this.ticker = Executors.newSingleThreadScheduledExecutor(daemon("fake-ec2-ticker"));
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.setExecutor(requestThreads);
        server.createContext("/", this::serve);
        server.start();
        this.endpoint = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        long tick = cfg.tickInterval.toMillis();
        ticker.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
    }

    /** Starts a fake with the default settings. */
    public static FakeEc2 start() {
        return builder().start();
    }

    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- client side

    /** {@code http://127.0.0.1:<port>}. */
    public URI endpoint() {
        return endpoint;
    }

    /** A real SDK client for this fake (us-east-1, static credentials, url-connection HTTP client). */
    public Ec2Client ec2Client() {
        return AwsTestClients.ec2(endpoint);
    }

    /** A real SDK client; {@code customizer} may set e.g. {@code overrideConfiguration(o -> o.retryStrategy(...))}. */
    public Ec2Client ec2Client(Consumer<Ec2ClientBuilder> customizer) {
        return AwsTestClients.ec2(endpoint, AwsTestClients.DEFAULT_ACCESS_KEY, customizer);
    }

    /** The account id used as OwnerId everywhere. */
    public String accountId() {
        return cfg.accountId;
    }

    // ---------------------------------------------------------------- control

    /** Fault injection: throttling, server errors, eventual-consistency windows, delays, spot capacity. */
    public Ec2Faults faults() {
        return faults;
    }

    /** Called when an instance reaches running; see {@link LaunchHook}. {@code null} removes the hook. */
    public FakeEc2 onLaunch(LaunchHook hook) {
        backend.launchHook(hook);
        return this;
    }

    /**
     * When {@code true}, a guest poweroff ({@link #instanceShutdownByGuest}) is lost: the guest is gone but the
     * instance stays {@code running} (as when the shutdown hangs or the agent dies), so a test can show that the
     * operator terminates it anyway.
     */
    public FakeEc2 guestPoweroffFails(boolean fails) {
        backend.guestPoweroffFails(fails);
        return this;
    }

    /** The next ImportSnapshot task ends {@code deleted} with this StatusMessage instead of completing. */
    public FakeEc2 failNextImport(String statusMessage) {
        backend.failNextImport(Objects.requireNonNull(statusMessage, "statusMessage"));
        return this;
    }

    /** Replaces the S3 object lookup used by ImportSnapshot. */
    public FakeEc2 s3ObjectLookup(S3ObjectLookup lookup) {
        backend.s3ObjectLookup(lookup);
        return this;
    }

    /**
     * The guest of a running instance powered itself off. With InstanceInitiatedShutdownBehavior=terminate the
     * instance goes shutting-down → terminated, otherwise (EC2's default, {@code stop}) stopping → stopped.
     *
     * @return {@code false} when the instance is not running or {@link #guestPoweroffFails(boolean)} is on
     */
    public boolean instanceShutdownByGuest(String instanceId) {
        return backend.instanceShutdownByGuest(instanceId);
    }

    /** Instance ids whose guest poweroff was dropped because {@link #guestPoweroffFails} was on. */
    public List<String> ignoredGuestPoweroffs() {
        return backend.guestPoweroffsIgnored();
    }

    /** Applies time-driven state transitions now (the fake also does this every few milliseconds by itself). */
    public void tick() {
        try {
            runPost(backend.tick());
        } catch (RuntimeException e) {
            LOG.warn("fake EC2 tick failed", e);
        }
    }

    // ---------------------------------------------------------------- recording

    /** Every request received, in order (including the ones answered with an injected fault). */
    public List<Ec2Call> calls() {
        synchronized (calls) {
            return List.copyOf(calls);
        }
    }

    /** The requests of one action. */
    public List<Ec2Call> calls(String action) {
        return calls().stream().filter(c -> c.action().equals(action)).toList();
    }

    /** How many requests of {@code action} were received. */
    public int count(String action) {
        return calls(action).size();
    }

    /** Forgets the recorded calls (state and faults are kept). */
    public void reset() {
        calls.clear();
    }

    // ---------------------------------------------------------------- state views and seeding

    public List<Views.InstanceView> instances() {
        return backend.instanceViews();
    }

    public Optional<Views.InstanceView> instance(String instanceId) {
        return instances().stream().filter(i -> i.instanceId().equals(instanceId)).findFirst();
    }

    public List<Views.ImageView> images() {
        return backend.imageViews();
    }

    public List<Views.SnapshotView> snapshots() {
        return backend.snapshotViews();
    }

    public List<Views.ImportTaskView> importTasks() {
        return backend.importTaskViews();
    }

    /** Tags set with CreateTags on resource kinds the fake does not model (sg-, subnet-, ...). */
    public Map<String, Map<String, String>> otherResourceTags() {
        return backend.otherResourceTags();
    }

    /** Creates a completed snapshot directly (no import): for tests that start from an existing image. */
    public String seedSnapshot(int sizeGiB, Map<String, String> tags) {
        return backend.seedSnapshot(sizeGiB, tags);
    }

    /** Registers an available x86_64 UEFI, ENA, IMDSv2-only image on {@code snapshotId} directly. */
    public String seedImage(String name, String snapshotId, Map<String, String> tags) {
        return backend.seedImage(name, snapshotId, tags);
    }

    // ---------------------------------------------------------------- lifecycle

    @Override
    public void close() {
        ticker.shutdownNow();
        server.stop(0);
        requestThreads.shutdownNow();
        guestThreads.shutdown();
        try {
            if (!guestThreads.awaitTermination(2, TimeUnit.SECONDS)) {
                guestThreads.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void runPost(List<Runnable> post) {
        for (Runnable r : post) {
            try {
                guestThreads.execute(r);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                LOG.debug("fake EC2 closed; dropping guest action");
            }
        }
    }

    // ---------------------------------------------------------------- HTTP

    private void serve(HttpExchange ex) throws IOException {
        String requestId = UUID.randomUUID().toString();
        Instant at = cfg.clock.instant();
        String action = null;
        QueryParams params = QueryParams.parse("");
        String accessKey = null;
        int status;
        String body;
        String errorCode = null;
        try {
            String form;
            try (InputStream in = ex.getRequestBody()) {
                form = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            String query = ex.getRequestURI().getRawQuery();
            params = QueryParams.parse(query == null ? form : form.isEmpty() ? query : query + "&" + form);
            action = params.get("Action");
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (auth != null) {
                Matcher m = CREDENTIAL.matcher(auth);
                accessKey = m.find() ? m.group(1) : null;
            }
            if (action == null || action.isEmpty()) {
                throw Ec2Exception.client("MissingAction", "The request must contain the parameter Action");
            }
            if (cfg.requireSignature && accessKey == null) {
                throw new Ec2Exception(401, "AuthFailure", "AWS was not able to validate the provided access credentials");
            }
            Duration delay = faults.delay(action);
            if (!delay.isZero()) {
                Thread.sleep(delay.toMillis());
            }
            Ec2Faults.Fault fault = faults.nextFault(action);
            if (fault != null) {
                throw new Ec2Exception(fault.status(), fault.code(), fault.message());
            }
            Ec2Backend.Result result = backend.handle(action, params, requestId);
            runPost(result.post());
            status = 200;
            body = result.xml();
        } catch (Ec2Exception e) {
            status = e.status;
            errorCode = e.code;
            body = Xml.error(e.code, e.getMessage(), requestId);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            status = 503;
            errorCode = "Unavailable";
            body = Xml.error(errorCode, "The fake EC2 endpoint is shutting down", requestId);
        } catch (RuntimeException e) {
            LOG.warn("fake EC2 failed on {}", action, e);
            status = 500;
            errorCode = "InternalError";
            body = Xml.error(errorCode, "Fake EC2 bug: " + e, requestId);
        }
        calls.add(new Ec2Call(action == null ? "" : action, params.asMap(), accessKey, status, errorCode, at));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/xml;charset=UTF-8");
        ex.getResponseHeaders().set("x-amzn-RequestId", requestId);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    // ---------------------------------------------------------------- builder

    /** Settings; every one has a default, so {@code FakeEc2.builder().start()} works. */
    public static final class Builder {
        private final Ec2Config cfg = new Ec2Config();

        private Builder() {
        }

        /** OwnerId of everything (default {@code 123456789012}, as moto uses). */
        public Builder accountId(String accountId) {
            cfg.accountId = Objects.requireNonNull(accountId);
            return this;
        }

        /** Region; only used for availability zones (default us-east-1). */
        public Builder region(String region) {
            cfg.region = Objects.requireNonNull(region);
            return this;
        }

        /** The clock for all timing (creation times, windows, expiries). Default: system UTC. */
        public Builder clock(Clock clock) {
            cfg.clock = Objects.requireNonNull(clock);
            return this;
        }

        /** How ImportSnapshot checks the S3 object. Default: every object exists and is 1 GiB. */
        public Builder s3ObjectLookup(S3ObjectLookup lookup) {
            cfg.s3ObjectLookup = Objects.requireNonNull(lookup);
            return this;
        }

        /** On which DescribeImportSnapshotTasks observation a task completes (default 3, minimum 1). */
        public Builder importPolls(int polls) {
            if (polls < 1) {
                throw new IllegalArgumentException("importPolls must be >= 1");
            }
            cfg.importPolls = polls;
            return this;
        }

        /**
         * pending → running after this many DescribeInstances observations (default 1: the first Describe still
         * shows pending) or after {@code time} (default 100 ms; {@code null} = only by polls), whichever first.
         */
        public Builder pending(int polls, Duration time) {
            cfg.pendingPolls = polls;
            cfg.pendingTime = time;
            return this;
        }

        /** shutting-down → terminated (and stopping → stopped), like {@link #pending(int, Duration)}. */
        public Builder shuttingDown(int polls, Duration time) {
            cfg.shuttingDownPolls = polls;
            cfg.shuttingDownTime = time;
            return this;
        }

        /** How long terminated instances remain visible to DescribeInstances (default 1 hour, as on AWS). */
        public Builder terminatedVisibility(Duration d) {
            cfg.terminatedVisibility = Objects.requireNonNull(d);
            return this;
        }

        /**
         * A RunInstances ClientToken is forgotten this long after the last of its instances terminated; a replay
         * after that launches new instances. Default {@code null}: tokens never expire.
         */
        public Builder clientTokenExpiry(Duration d) {
            cfg.clientTokenExpiry = d;
            return this;
        }

        /** What a replay of a token whose instances are all terminated answers (default {@code ERROR}). */
        public Builder terminatedTokenBehavior(TerminatedTokenBehavior b) {
            cfg.terminatedTokenBehavior = Objects.requireNonNull(b);
            return this;
        }

        /** Whether requests without a SigV4 Authorization header are refused with AuthFailure (default true). */
        public Builder requireSignature(boolean require) {
            cfg.requireSignature = require;
            return this;
        }

        /** How often time-driven transitions are applied (default 20 ms). */
        public Builder tickInterval(Duration d) {
            cfg.tickInterval = Objects.requireNonNull(d);
            return this;
        }

        /** Binds 127.0.0.1 on a free port and starts serving. */
        public FakeEc2 start() {
            try {
                return new FakeEc2(cfg);
            } catch (IOException e) {
                throw new IllegalStateException("cannot start the fake EC2 endpoint", e);
            }
        }
    }
}
