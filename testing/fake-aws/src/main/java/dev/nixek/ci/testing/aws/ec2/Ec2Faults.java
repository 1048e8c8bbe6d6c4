package dev.nixek.ci.testing.aws.ec2;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Fault injection for {@link FakeEc2}. Every method is thread-safe and returns {@code this}. An action name of
 * {@code "*"} matches every action. Injected errors are answered before the request touches any state (so a
 * throttled RunInstances launches nothing and does not consume its ClientToken).
 */
public final class Ec2Faults {

    /** Matches every action. */
    public static final String ANY = "*";

    record Fault(int status, String code, String message) {
    }

    private final Map<String, Deque<Fault>> queued = new HashMap<>();
    private final Map<String, Duration> notFoundWindows = new HashMap<>();
    private final Map<String, Duration> delays = new HashMap<>();
    private final Deque<Fault> spotFaults = new ArrayDeque<>();

    Ec2Faults() {
    }

    /** The next {@code times} calls of {@code action} fail with {@code RequestLimitExceeded} (HTTP 503). */
    public synchronized Ec2Faults throttle(String action, int times) {
        return error(action, 503, "RequestLimitExceeded", "Request limit exceeded.", times);
    }

    /** The next {@code times} calls of {@code action} fail with {@code InternalError} (HTTP 500). */
    public synchronized Ec2Faults serverError(String action, int times) {
        return error(action, 500, "InternalError", "An internal error has occurred", times);
    }

    /** The next {@code times} calls of {@code action} fail with {@code Unavailable} (HTTP 503). */
    public synchronized Ec2Faults unavailable(String action, int times) {
        return error(action, 503, "Unavailable", "The server is overloaded and can't handle the request.", times);
    }

    /** The next {@code times} calls of {@code action} fail with the given error. */
    public synchronized Ec2Faults error(String action, int httpStatus, String code, String message, int times) {
        Objects.requireNonNull(action, "action");
        Deque<Fault> q = queued.computeIfAbsent(action, a -> new ArrayDeque<>());
        for (int i = 0; i < times; i++) {
            q.add(new Fault(httpStatus, code, message));
        }
        return this;
    }

    /**
     * Eventual consistency: for {@code window} after a resource (instance, image, snapshot, import task) is
     * created, {@code action} behaves as if it did not exist yet: asked by id it answers the resource's
     * {@code *.NotFound} error, in a filtered or unfiltered list it is simply absent. Works for the Describe*
     * actions and for TerminateInstances / CreateTags / DeleteSnapshot / DeregisterImage.
     */
    public synchronized Ec2Faults notFoundFor(String action, Duration window) {
        notFoundWindows.put(Objects.requireNonNull(action, "action"), window);
        return this;
    }

    /** Every call of {@code action} is answered {@code delay} late (the request thread sleeps first). */
    public synchronized Ec2Faults delay(String action, Duration delay) {
        delays.put(Objects.requireNonNull(action, "action"), delay);
        return this;
    }

    /**
     * The next {@code times} <em>spot</em> RunInstances requests (InstanceMarketOptions.MarketType=spot) fail with
     * {@code InsufficientInstanceCapacity} (HTTP 500, a server error in EC2's error list). On-demand requests are
     * not affected.
     */
    public synchronized Ec2Faults insufficientSpotCapacity(int times) {
        for (int i = 0; i < times; i++) {
            spotFaults.add(new Fault(500, "InsufficientInstanceCapacity",
                    "There is no Spot capacity available that matches your request."));
        }
        return this;
    }

    /** The next {@code times} spot RunInstances requests fail with {@code SpotMaxPriceTooLow} (HTTP 400). */
    public synchronized Ec2Faults spotMaxPriceTooLow(int times) {
        for (int i = 0; i < times; i++) {
            spotFaults.add(new Fault(400, "SpotMaxPriceTooLow",
                    "Your Spot request price is lower than the minimum required Spot request fulfillment price."));
        }
        return this;
    }

    /** Removes every injected fault, window and delay. */
    public synchronized void clear() {
        queued.clear();
        notFoundWindows.clear();
        delays.clear();
        spotFaults.clear();
    }

    synchronized Fault nextFault(String action) {
        for (String key : new String[] {action, ANY}) {
            Deque<Fault> q = queued.get(key);
            if (q != null && !q.isEmpty()) {
                return q.poll();
            }
        }
        return null;
    }

    synchronized Fault nextSpotFault() {
        return spotFaults.poll();
    }

    synchronized Duration notFoundWindow(String action) {
        Duration d = notFoundWindows.get(action);
        return d != null ? d : notFoundWindows.getOrDefault(ANY, Duration.ZERO);
    }

    synchronized Duration delay(String action) {
        Duration d = delays.get(action);
        return d != null ? d : delays.getOrDefault(ANY, Duration.ZERO);
    }
}
