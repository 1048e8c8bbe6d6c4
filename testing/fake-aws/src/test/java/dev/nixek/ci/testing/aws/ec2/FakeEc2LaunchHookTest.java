package dev.nixek.ci.testing.aws.ec2;

import static dev.nixek.ci.testing.aws.ec2.Ec2Fixtures.b64;
import static dev.nixek.ci.testing.aws.ec2.Ec2Fixtures.describe;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.ShutdownBehavior;
import software.amazon.awssdk.services.ec2.model.Tag;

/** The guest side: launch hook, guest poweroff, TerminateInstances stopping the machine. */
@SuppressWarnings("unchecked") // the SDK's Consumer<...>... varargs
class FakeEc2LaunchHookTest {

    private FakeEc2 fake;
    private Ec2Client ec2;
    private String ami;
    private final BlockingQueue<LaunchedInstance> launched = new LinkedBlockingQueue<>();
    private final List<String> stopped = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        fake = FakeEc2.builder().pending(1, Duration.ofMillis(30)).shuttingDown(1, Duration.ofMillis(30)).start();
        ec2 = fake.ec2Client();
        ami = Ec2Fixtures.image(fake, ec2, "nixek-hook");
        fake.onLaunch(instance -> {
            launched.add(instance);
            return () -> stopped.add(instance.instanceId());
        });
    }

    @AfterEach
    void stop() {
        ec2.close();
        fake.close();
    }

    private RunInstancesRequest launch(String token, ShutdownBehavior behavior) {
        return RunInstancesRequest.builder().imageId(ami).minCount(1).maxCount(1).clientToken(token)
                .userData(b64("{\"job\":\"" + token + "\",\"token\":\"nxk_secret\"}"))
                .instanceInitiatedShutdownBehavior(behavior)
                .tagSpecifications(t -> t.resourceType(ResourceType.INSTANCE)
                        .tags(Tag.builder().key("nixek.dev/job-uid").value(token).build()))
                .build();
    }

    private LaunchedInstance nextLaunch() throws InterruptedException {
        LaunchedInstance li = launched.poll(5, TimeUnit.SECONDS);
        assertThat(li).as("the launch hook ran").isNotNull();
        return li;
    }

    @Test
    void hookGetsUserDataAndTagsAndGuestPoweroffTerminates() throws Exception {
        String id = ec2.runInstances(launch("job-a", ShutdownBehavior.TERMINATE)).instances().get(0).instanceId();
        LaunchedInstance li = nextLaunch();
        assertThat(li.instanceId()).isEqualTo(id);
        assertThat(li.userData()).isEqualTo("{\"job\":\"job-a\",\"token\":\"nxk_secret\"}");
        assertThat(li.tags()).containsEntry("nixek.dev/job-uid", "job-a");
        assertThat(li.imageId()).isEqualTo(ami);
        assertThat(describe(ec2, id).state().name()).isEqualTo(InstanceStateName.RUNNING);
        assertThat(fake.instance(id).orElseThrow().guestRunning()).isTrue();

        assertThat(li.powerOff()).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> describe(ec2, id).state().name() == InstanceStateName.TERMINATED);
        assertThat(describe(ec2, id).stateReason().code()).isEqualTo("Client.InstanceInitiatedShutdown");
        assertThat(stopped).as("a guest that powered off is not stopped again").isEmpty();
        assertThat(li.powerOff()).as("a second poweroff changes nothing").isFalse();
    }

    @Test
    void guestPoweroffWithStopBehaviourStopsTheInstance() throws Exception {
        String id = ec2.runInstances(launch("job-b", ShutdownBehavior.STOP)).instances().get(0).instanceId();
        nextLaunch();
        assertThat(fake.instanceShutdownByGuest(id)).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> describe(ec2, id).state().name() == InstanceStateName.STOPPED);
        // and a stopped instance can still be terminated
        assertThat(ec2.terminateInstances(r -> r.instanceIds(id)).terminatingInstances().get(0).previousState().name())
                .isEqualTo(InstanceStateName.STOPPED);
        await().atMost(Duration.ofSeconds(5)).until(() -> describe(ec2, id).state().name() == InstanceStateName.TERMINATED);
    }

    @Test
    void terminateInstancesStopsTheMachine() throws Exception {
        String id = ec2.runInstances(launch("job-c", ShutdownBehavior.TERMINATE)).instances().get(0).instanceId();
        nextLaunch();
        ec2.terminateInstances(r -> r.instanceIds(id));
        await().atMost(Duration.ofSeconds(5)).until(() -> stopped.contains(id));
        assertThat(stopped).containsExactly(id);
        await().atMost(Duration.ofSeconds(5)).until(() -> describe(ec2, id).state().name() == InstanceStateName.TERMINATED);
    }

    @Test
    void aFailedGuestPoweroffLeavesTheInstanceRunningUntilTheOperatorTerminatesIt() throws Exception {
        fake.guestPoweroffFails(true);
        String id = ec2.runInstances(launch("job-d", ShutdownBehavior.TERMINATE)).instances().get(0).instanceId();
        LaunchedInstance li = nextLaunch();
        assertThat(li.powerOff()).isFalse();
        assertThat(fake.ignoredGuestPoweroffs()).containsExactly(id);
        Thread.sleep(200); // well past the transition time
        assertThat(describe(ec2, id).state().name()).isEqualTo(InstanceStateName.RUNNING);
        assertThat(fake.instance(id).orElseThrow().guestRunning()).isFalse();

        ec2.terminateInstances(r -> r.instanceIds(id));
        await().atMost(Duration.ofSeconds(5)).until(() -> describe(ec2, id).state().name() == InstanceStateName.TERMINATED);
        assertThat(stopped).containsExactly(id);
    }

    @Test
    void anInstanceTerminatedWhilePendingNeverBoots() throws Exception {
        try (FakeEc2 f = FakeEc2.builder().pending(100, null).shuttingDown(0, null).start(); Ec2Client c = f.ec2Client()) {
            AtomicInteger boots = new AtomicInteger();
            f.onLaunch(i -> {
                boots.incrementAndGet();
                return Machine.none();
            });
            ami = Ec2Fixtures.image(f, c, "nixek-pending");
            String id = c.runInstances(launch("job-e", ShutdownBehavior.TERMINATE)).instances().get(0).instanceId();
            assertThat(c.terminateInstances(r -> r.instanceIds(id)).terminatingInstances().get(0).previousState().name())
                    .isEqualTo(InstanceStateName.PENDING);
            assertThat(describe(c, id).state().name()).isEqualTo(InstanceStateName.TERMINATED);
            Thread.sleep(100);
            assertThat(boots).hasValue(0);
        }
    }

    @Test
    void aSlowHookIsStoppedOnceItReturnsIfTerminatedMeanwhile() throws Exception {
        try (FakeEc2 f = FakeEc2.builder().pending(0, null).shuttingDown(100, null).start(); Ec2Client c = f.ec2Client()) {
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            f.onLaunch(i -> {
                release.await(5, TimeUnit.SECONDS);
                return () -> stopped.add(i.instanceId());
            });
            ami = Ec2Fixtures.image(f, c, "nixek-slow");
            String id = c.runInstances(launch("job-f", ShutdownBehavior.TERMINATE)).instances().get(0).instanceId();
            describe(c, id); // running: the hook starts and blocks
            c.terminateInstances(r -> r.instanceIds(id));
            assertThat(stopped).isEmpty();
            release.countDown();
            await().atMost(Duration.ofSeconds(5)).until(() -> stopped.contains(id));
        }
    }
}
