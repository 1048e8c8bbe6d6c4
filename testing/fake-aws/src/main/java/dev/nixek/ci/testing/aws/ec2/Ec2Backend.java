package dev.nixek.ci.testing.aws.ec2;

import dev.nixek.ci.testing.aws.S3ObjectLookup;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The state and the action handlers of {@link FakeEc2}: it dispatches an action to its handler while holding the
 * one lock ({@link Ec2State}); work that calls user code (launch hooks, {@link Machine#stop()}) is returned as
 * "post actions" and run by the caller after the lock is released.
 *
 * <p>The parts: {@link Ec2Model} (the resources), {@link Ec2State} (tables, lookups, visibility windows),
 * {@link InstanceLifecycle} (state changes over time, launch hooks), {@link InstanceActions} with
 * {@link InstanceXml}, {@link ImportActions}, {@link ImageActions} (images and snapshots), {@link Ec2Tags},
 * {@link Ec2Filters}, and {@link SeedsAndViews} for tests.
 */
final class Ec2Backend {

    /** An action's response plus work to run (off the lock) afterwards. */
    record Result(String xml, List<Runnable> post) {
    }

    private final Ec2State state;
    private final InstanceLifecycle lifecycle;
    private final InstanceActions instanceActions;
    private final ImportActions importActions;
    private final ImageActions imageActions;
    private final Ec2Tags tags;
    private final SeedsAndViews seedsAndViews;

    Ec2Backend(Ec2Config cfg, Ec2Faults faults, FakeEc2 owner) {
        this.state = new Ec2State(cfg, faults);
        this.lifecycle = new InstanceLifecycle(state, owner);
        this.instanceActions = new InstanceActions(state);
        this.importActions = new ImportActions(state);
        this.imageActions = new ImageActions(state);
        this.tags = new Ec2Tags(state);
        this.seedsAndViews = new SeedsAndViews(state);
    }

    void launchHook(LaunchHook hook) {
        lifecycle.launchHook(hook);
    }

    void guestPoweroffFails(boolean fails) {
        lifecycle.guestPoweroffFails(fails);
    }

    void s3ObjectLookup(S3ObjectLookup lookup) {
        importActions.s3ObjectLookup(lookup);
    }

    void failNextImport(String statusMessage) {
        synchronized (state) {
            importActions.failNextImport(statusMessage);
        }
    }

    List<String> guestPoweroffsIgnored() {
        synchronized (state) {
            return lifecycle.guestPoweroffsIgnored();
        }
    }

    Result handle(String action, QueryParams p, String requestId) {
        List<Runnable> post = new ArrayList<>();
        String xml;
        synchronized (state) {
            lifecycle.advance(post);
            xml = switch (action) {
                case "RunInstances" -> instanceActions.runInstances(p, requestId);
                case "DescribeInstances" -> instanceActions.describeInstances(p, requestId);
                case "TerminateInstances" -> instanceActions.terminateInstances(p, requestId, post);
                case "DescribeInstanceAttribute" -> instanceActions.describeInstanceAttribute(p, requestId);
                case "ImportSnapshot" -> importActions.importSnapshot(p, requestId);
                case "DescribeImportSnapshotTasks" -> importActions.describeImportSnapshotTasks(p, requestId);
                case "RegisterImage" -> imageActions.registerImage(p, requestId);
                case "DescribeImages" -> imageActions.describeImages(p, requestId);
                case "DeregisterImage" -> imageActions.deregisterImage(p, requestId);
                case "DescribeSnapshots" -> imageActions.describeSnapshots(p, requestId);
                case "DeleteSnapshot" -> imageActions.deleteSnapshot(p, requestId);
                case "CreateTags" -> tags.createTags(p, requestId);
                case "DeleteTags" -> tags.deleteTags(p, requestId);
                default -> throw Ec2Exception.client("InvalidAction",
                        "The action " + action + " is not valid for this web service.");
            };
        }
        return new Result(xml, post);
    }

    /** Time-driven transitions; called by the ticker. Returns post actions. */
    List<Runnable> tick() {
        List<Runnable> post = new ArrayList<>();
        synchronized (state) {
            lifecycle.advance(post);
        }
        return post;
    }

    /** The guest powered itself off. */
    boolean instanceShutdownByGuest(String instanceId) {
        synchronized (state) {
            return lifecycle.instanceShutdownByGuest(instanceId);
        }
    }

    String seedSnapshot(int sizeGiB, Map<String, String> tags) {
        synchronized (state) {
            return seedsAndViews.seedSnapshot(sizeGiB, tags);
        }
    }

    String seedImage(String name, String snapshotId, Map<String, String> tags) {
        synchronized (state) {
            return seedsAndViews.seedImage(name, snapshotId, tags);
        }
    }

    List<Views.InstanceView> instanceViews() {
        synchronized (state) {
            return seedsAndViews.instanceViews();
        }
    }

    List<Views.ImageView> imageViews() {
        synchronized (state) {
            return seedsAndViews.imageViews();
        }
    }

    List<Views.SnapshotView> snapshotViews() {
        synchronized (state) {
            return seedsAndViews.snapshotViews();
        }
    }

    List<Views.ImportTaskView> importTaskViews() {
        synchronized (state) {
            return seedsAndViews.importTaskViews();
        }
    }

    Map<String, Map<String, String>> otherResourceTags() {
        synchronized (state) {
            return seedsAndViews.otherResourceTags();
        }
    }
}
