package dev.nixek.ci.testing.aws.ec2;

import dev.nixek.ci.testing.aws.ec2.Ec2Model.Inst;
import dev.nixek.ci.testing.aws.ec2.Ec2Model.Volume;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How instances move on their own: pending → running (and the launch hook, which boots a guest), shutting-down →
 * terminated and stopping → stopped after enough polls or time, a guest powering itself off, and client tokens
 * expiring after their instances terminated. Runs with the {@link Ec2State} lock held; launch hooks and
 * {@link Machine#stop()} are returned as post actions to run after it is released.
 */
final class InstanceLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(InstanceLifecycle.class);

    private final Ec2State state;
    private final FakeEc2 owner;
    private volatile LaunchHook launchHook;
    private volatile boolean guestPoweroffFails;
    private final List<String> guestPoweroffsIgnored = new ArrayList<>();

    InstanceLifecycle(Ec2State state, FakeEc2 owner) {
        this.state = state;
        this.owner = owner;
    }

    void launchHook(LaunchHook hook) {
        this.launchHook = hook;
    }

    void guestPoweroffFails(boolean fails) {
        this.guestPoweroffFails = fails;
    }

    /** Called with the state lock held. */
    List<String> guestPoweroffsIgnored() {
        return List.copyOf(guestPoweroffsIgnored);
    }

    /** Time-driven transitions, on every call and every tick; work that calls user code goes to {@code post}. */
    void advance(List<Runnable> post) {
        Instant now = state.now();
        for (Inst i : state.instances.values()) {
            Duration inState = Duration.between(i.stateSince, now);
            switch (i.state) {
                case PENDING -> {
                    if (i.polls >= state.cfg.pendingPolls || reached(inState, state.cfg.pendingTime)) {
                        setState(i, InstanceState.RUNNING, now);
                        dispatchLaunch(i, post);
                    }
                }
                case SHUTTING_DOWN -> {
                    if (i.polls >= state.cfg.shuttingDownPolls || reached(inState, state.cfg.shuttingDownTime)) {
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
                    if (i.polls >= state.cfg.shuttingDownPolls || reached(inState, state.cfg.shuttingDownTime)) {
                        setState(i, InstanceState.STOPPED, now);
                        i.guestRunning = false;
                    }
                }
                default -> { }
            }
        }
        if (state.cfg.clientTokenExpiry != null) {
            state.runTokens.values().removeIf(r -> {
                Instant last = null;
                for (Inst i : r.instances) {
                    if (i.state != InstanceState.TERMINATED) {
                        return false;
                    }
                    if (last == null || i.terminatedAt.isAfter(last)) {
                        last = i.terminatedAt;
                    }
                }
                return last != null && !now.isBefore(last.plus(state.cfg.clientTokenExpiry));
            });
        }
    }

    private static boolean reached(Duration elapsed, Duration threshold) {
        return threshold != null && elapsed.compareTo(threshold) >= 0;
    }

    static void setState(Inst i, InstanceState s, Instant now) {
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
                synchronized (state) {
                    i.guestRunning = false;
                }
                return;
            }
            boolean stopNow;
            synchronized (state) {
                i.machine = m;
                stopNow = i.state == InstanceState.SHUTTING_DOWN || i.state == InstanceState.TERMINATED;
            }
            if (stopNow && m != null) {
                stopMachine(i.id, m);
            }
        });
    }

    static void stopMachine(String id, Machine m) {
        try {
            m.stop();
        } catch (RuntimeException e) {
            LOG.warn("Machine.stop() failed for {}", id, e);
        }
    }

    /** The guest powered itself off. Called with the state lock held. */
    boolean instanceShutdownByGuest(String instanceId) {
        Inst i = state.instances.get(instanceId);
        if (i == null || i.state != InstanceState.RUNNING) {
            return false;
        }
        if (guestPoweroffFails) {
            guestPoweroffsIgnored.add(instanceId);
            i.guestRunning = false;
            return false;
        }
        Instant now = state.now();
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
}
