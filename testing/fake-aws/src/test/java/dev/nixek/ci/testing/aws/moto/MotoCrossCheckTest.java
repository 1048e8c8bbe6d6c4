package dev.nixek.ci.testing.aws.moto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.ArchitectureValues;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.ImageState;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.InstanceType;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.RunInstancesResponse;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TerminateInstancesResponse;

/**
 * Runs the same SDK calls against {@link FakeEc2} and against moto (a third-party EC2 emulator) and asserts the
 * same observable behaviour, so the fake is checked against an implementation it shares no code with.
 *
 * <p>moto must be installed ({@code pip install 'moto[server]'}). Without it the test is skipped, except under
 * {@code CI=true}, where it fails.
 *
 * <p>Where moto 5.2 is known to differ from EC2 (ClientToken idempotency, duplicate AMI names), the test pins
 * moto's behaviour in a separate test so a moto upgrade that fixes it is noticed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@SuppressWarnings("unchecked") // the SDK's Consumer<...>... varargs
class MotoCrossCheckTest {

    /** One EC2 implementation under test. */
    record Target(String name, Ec2Client ec2, Function<Ec2Client, String> snapshot) {
        @Override
        public String toString() {
            return name;
        }
    }

    private MotoServer moto;
    private FakeEc2 fake;
    private Target fakeTarget;
    private Target motoTarget;

    private String unavailable;

    @BeforeAll
    void start() {
        if (!MotoServer.isAvailable()) {
            unavailable = "moto is not installed for " + MotoServer.python() + " (pip install 'moto[server]')";
            return;
        }
        moto = MotoServer.start();
        fake = FakeEc2.builder().pending(1, Duration.ofMillis(50)).shuttingDown(1, Duration.ofMillis(50)).start();
        fakeTarget = new Target("fake", noRetries(fake.endpoint()), c -> fake.seedSnapshot(2, Map.of()));
        motoTarget = new Target("moto", noRetries(moto.endpoint()), c -> {
            String vol = c.createVolume(r -> r.availabilityZone("us-east-1a").size(2)).volumeId();
            return c.createSnapshot(r -> r.volumeId(vol)).snapshotId();
        });
    }

    private static Ec2Client noRetries(java.net.URI endpoint) {
        return dev.nixek.ci.testing.aws.AwsTestClients.ec2(endpoint, dev.nixek.ci.testing.aws.AwsTestClients.DEFAULT_ACCESS_KEY,
                b -> b.overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry())));
    }

    /** Per test, so that a missing moto shows as skipped (or failed under CI=true) in the test counts. */
    @BeforeEach
    void requireMoto() {
        if (unavailable != null) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(unavailable + ": the cross-check against moto is required under CI=true");
            }
            Assumptions.abort(unavailable + ": skipping the cross-check");
        }
    }

    @AfterAll
    void stop() {
        Stream.of(fakeTarget, motoTarget).filter(t -> t != null && t.ec2() != null).forEach(t -> t.ec2().close());
        if (fake != null) {
            fake.close();
        }
        if (moto != null) {
            moto.close();
            assertThat(moto.isRunning()).as("moto was stopped").isFalse();
        }
    }

    Stream<Target> targets() {
        if (unavailable != null) { // still yield one invocation per target so that they are reported skipped
            return Stream.of(new Target("fake", null, null), new Target("moto", null, null));
        }
        return Stream.of(fakeTarget, motoTarget);
    }

    private static String image(Target t, String name) {
        String snap = t.snapshot().apply(t.ec2());
        return t.ec2().registerImage(r -> r.name(name).architecture(ArchitectureValues.X86_64)
                .rootDeviceName("/dev/xvda").virtualizationType("hvm")
                .blockDeviceMappings(b -> b.deviceName("/dev/xvda").ebs(e -> e.snapshotId(snap).volumeSize(8)))).imageId();
    }

    private static RunInstancesRequest launch(String ami, String token, String job) {
        return RunInstancesRequest.builder().imageId(ami).minCount(1).maxCount(1).instanceType(InstanceType.T3_MICRO)
                .clientToken(token)
                .tagSpecifications(t -> t.resourceType(ResourceType.INSTANCE)
                        .tags(tag("nixek.dev/job-uid", job), tag("managed-by", "nixek")))
                .build();
    }

    private static Tag tag(String k, String v) {
        return Tag.builder().key(k).value(v).build();
    }

    private static List<Instance> find(Ec2Client ec2, Filter... filters) {
        return ec2.describeInstances(r -> r.filters(filters)).reservations().stream()
                .flatMap(r -> r.instances().stream()).toList();
    }

    private static Filter filter(String name, String... values) {
        return Filter.builder().name(name).values(values).build();
    }

    private static Instance describe(Ec2Client ec2, String id) {
        return ec2.describeInstances(r -> r.instanceIds(id)).reservations().get(0).instances().get(0);
    }

    private static Instance awaitState(Ec2Client ec2, String id, InstanceStateName state) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        Instance i = describe(ec2, id);
        while (i.state().name() != state && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            i = describe(ec2, id);
        }
        assertThat(i.state().name()).as("state of " + id).isEqualTo(state);
        return i;
    }

    private static String errorCode(Runnable call) {
        try {
            call.run();
        } catch (Ec2Exception e) {
            return e.statusCode() + " " + e.awsErrorDetails().errorCode();
        }
        return "no error";
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void launchDescribeByTagsTerminate(Target t) {
        Ec2Client ec2 = t.ec2();
        String ami = image(t, "xcheck-launch-" + t.name());
        String job = "job-" + t.name() + "-1";
        RunInstancesResponse run = ec2.runInstances(launch(ami, "tok-" + job, job));
        Instance launched = run.instances().get(0);
        String id = launched.instanceId();
        assertThat(run.reservationId()).startsWith("r-");
        assertThat(id).startsWith("i-");
        assertThat(launched.state().name()).isEqualTo(InstanceStateName.PENDING);
        assertThat(launched.state().code()).isZero();
        assertThat(launched.imageId()).isEqualTo(ami);
        assertThat(launched.instanceType()).isEqualTo(InstanceType.T3_MICRO);
        assertThat(launched.clientToken()).isEqualTo("tok-" + job);
        assertThat(launched.tags()).contains(tag("nixek.dev/job-uid", job), tag("managed-by", "nixek"));

        assertThat(find(ec2, filter("tag:nixek.dev/job-uid", job))).extracting(Instance::instanceId).containsExactly(id);
        assertThat(find(ec2, filter("tag:nixek.dev/job-uid", "job-" + t.name() + "-nope"))).isEmpty();
        assertThat(find(ec2, filter("tag-key", "nixek.dev/job-uid"), filter("tag:nixek.dev/job-uid", job)))
                .extracting(Instance::instanceId).containsExactly(id);

        Instance running = awaitState(ec2, id, InstanceStateName.RUNNING);
        assertThat(running.state().code()).isEqualTo(16);
        assertThat(find(ec2, filter("instance-state-name", "running"), filter("tag:nixek.dev/job-uid", job)))
                .extracting(Instance::instanceId).containsExactly(id);

        TerminateInstancesResponse term = ec2.terminateInstances(r -> r.instanceIds(id));
        assertThat(term.terminatingInstances()).singleElement().satisfies(s -> {
            assertThat(s.instanceId()).isEqualTo(id);
            assertThat(s.previousState().name()).isEqualTo(InstanceStateName.RUNNING);
            assertThat(s.previousState().code()).isEqualTo(16);
            assertThat(s.currentState().name()).isEqualTo(InstanceStateName.SHUTTING_DOWN);
            assertThat(s.currentState().code()).isEqualTo(32);
        });
        Instance gone = awaitState(ec2, id, InstanceStateName.TERMINATED);
        assertThat(gone.state().code()).isEqualTo(48);
        assertThat(find(ec2, filter("instance-state-name", "terminated"), filter("tag:nixek.dev/job-uid", job)))
                .extracting(Instance::instanceId).containsExactly(id);
        assertThat(find(ec2, filter("instance-state-name", "pending", "running"), filter("tag:nixek.dev/job-uid", job)))
                .isEmpty();
        // (terminating it again: EC2 and the fake answer terminated → terminated, moto 5.2 answers shutting-down;
        // not compared)
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void createAndDeleteTags(Target t) {
        Ec2Client ec2 = t.ec2();
        String ami = image(t, "xcheck-tags-" + t.name());
        String job = "job-" + t.name() + "-tags";
        String id = ec2.runInstances(launch(ami, "tok-" + job, job)).instances().get(0).instanceId();
        ec2.createTags(r -> r.resources(id, ami).tags(tag("nixek.dev/phase", "running")));
        assertThat(describe(ec2, id).tags()).contains(tag("nixek.dev/phase", "running"));
        assertThat(find(ec2, filter("tag:nixek.dev/phase", "running"))).extracting(Instance::instanceId).contains(id);
        assertThat(ec2.describeImages(r -> r.owners("self").filters(filter("tag:nixek.dev/phase", "running"))).images())
                .extracting(Image::imageId).containsExactly(ami);
        ec2.deleteTags(r -> r.resources(id).tags(Tag.builder().key("nixek.dev/phase").build()));
        assertThat(describe(ec2, id).tags()).extracting(Tag::key).doesNotContain("nixek.dev/phase");
        ec2.terminateInstances(r -> r.instanceIds(id));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void registerAndFindImagesByName(Target t) {
        Ec2Client ec2 = t.ec2();
        String name = "xcheck-image-" + t.name();
        String ami = image(t, name);
        assertThat(ami).startsWith("ami-");
        List<Image> byName = ec2.describeImages(r -> r.owners("self").filters(filter("name", name))).images();
        assertThat(byName).extracting(Image::imageId).containsExactly(ami);
        Image img = byName.get(0);
        assertThat(img.name()).isEqualTo(name);
        assertThat(img.state()).isEqualTo(ImageState.AVAILABLE);
        assertThat(img.ownerId()).isEqualTo("123456789012");
        // (moto 5.2 ignores Architecture, RootDeviceName and the block device mappings of RegisterImage: not compared)
        assertThat(ec2.describeImages(r -> r.imageIds(ami)).images()).extracting(Image::name).containsExactly(name);
        assertThat(ec2.describeImages(r -> r.owners("self").filters(filter("name", name + "-absent"))).images()).isEmpty();

        ec2.deregisterImage(r -> r.imageId(ami));
        assertThat(ec2.describeImages(r -> r.owners("self").filters(filter("name", name))).images()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void clientTokenIsEchoedOnTheInstance(Target t) {
        // both report the token on the instance; the operator persists it and compares it on describe
        Ec2Client ec2 = t.ec2();
        String ami = image(t, "xcheck-token-" + t.name());
        String token = "tok-echo-" + t.name();
        String id = ec2.runInstances(launch(ami, token, "job-echo-" + t.name())).instances().get(0).instanceId();
        assertThat(describe(ec2, id).clientToken()).isEqualTo(token);
        ec2.terminateInstances(r -> r.instanceIds(id));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void notFoundErrorsAgree(Target t) {
        Ec2Client ec2 = t.ec2();
        assertThat(errorCode(() -> ec2.describeInstances(r -> r.instanceIds("i-0123456789abcdef0"))))
                .isEqualTo("400 InvalidInstanceID.NotFound");
        assertThat(errorCode(() -> ec2.terminateInstances(r -> r.instanceIds("i-0123456789abcdef0"))))
                .isEqualTo("400 InvalidInstanceID.NotFound");
        assertThat(errorCode(() -> ec2.describeImages(r -> r.imageIds("ami-0123456789abcdef0"))))
                .isEqualTo("400 InvalidAMIID.NotFound");
        assertThat(errorCode(() -> ec2.describeSnapshots(r -> r.snapshotIds("snap-0123456789abcdef0"))))
                .isEqualTo("400 InvalidSnapshot.NotFound");
    }

    @Test
    void clientTokenReplayIsIdempotentOnTheFakeAndKnownToBeIgnoredByMoto() {
        // EC2 documents: same token + same parameters → the original instances, nothing launched.
        String fakeAmi = image(fakeTarget, "xcheck-replay-fake");
        RunInstancesRequest req = launch(fakeAmi, "tok-replay", "job-replay");
        String first = fakeTarget.ec2().runInstances(req).instances().get(0).instanceId();
        assertThat(fakeTarget.ec2().runInstances(req).instances().get(0).instanceId()).isEqualTo(first);

        // moto 5.2 launches a second instance: a known gap in moto, pinned here so an upgrade that fixes it shows up
        String motoAmi = image(motoTarget, "xcheck-replay-moto");
        RunInstancesRequest motoReq = launch(motoAmi, "tok-replay", "job-replay");
        String m1 = motoTarget.ec2().runInstances(motoReq).instances().get(0).instanceId();
        String m2 = motoTarget.ec2().runInstances(motoReq).instances().get(0).instanceId();
        assertThat(m2).as("moto ignores ClientToken (if this fails, moto became idempotent: move the replay "
                + "check into the shared tests)").isNotEqualTo(m1);
    }

    @Test
    void runInstancesWithAnUnknownImageFailsOnTheFakeAndIsKnownToSucceedOnMoto() {
        assertThat(errorCode(() -> fakeTarget.ec2().runInstances(launch("ami-0123456789abcdef0", "tok-noimg", "x"))))
                .isEqualTo("400 InvalidAMIID.NotFound");
        assertThat(errorCode(() -> motoTarget.ec2().runInstances(launch("ami-0123456789abcdef0", "tok-noimg", "x"))))
                .as("moto 5.2 does not check the AMI of RunInstances").isEqualTo("no error");
    }

    @Test
    void duplicateAmiNamesAreRefusedByTheFakeAndKnownToBeAcceptedByMoto() {
        image(fakeTarget, "xcheck-dup");
        assertThatThrownBy(() -> image(fakeTarget, "xcheck-dup")).isInstanceOf(Ec2Exception.class)
                .satisfies(e -> assertThat(((Ec2Exception) e).awsErrorDetails().errorCode()).isEqualTo("InvalidAMIName.Duplicate"));
        image(motoTarget, "xcheck-dup");
        assertThat(image(motoTarget, "xcheck-dup")).as("moto accepts duplicate AMI names (EC2 does not)").startsWith("ami-");
    }
}
