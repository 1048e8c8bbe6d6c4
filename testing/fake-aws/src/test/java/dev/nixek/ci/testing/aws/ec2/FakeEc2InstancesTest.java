package dev.nixek.ci.testing.aws.ec2;

import static dev.nixek.ci.testing.aws.ec2.Ec2Fixtures.assertEc2Error;
import static dev.nixek.ci.testing.aws.ec2.Ec2Fixtures.b64;
import static dev.nixek.ci.testing.aws.ec2.Ec2Fixtures.describe;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesResponse;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.HttpTokensState;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceAttributeName;
import software.amazon.awssdk.services.ec2.model.InstanceMetadataEndpointState;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.InstanceType;
import software.amazon.awssdk.services.ec2.model.MarketType;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.RunInstancesResponse;
import software.amazon.awssdk.services.ec2.model.ShutdownBehavior;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TerminateInstancesResponse;

/** RunInstances / DescribeInstances / TerminateInstances / ClientToken semantics through the real SDK. */
@SuppressWarnings("unchecked") // the SDK's Consumer<...>... varargs
class FakeEc2InstancesTest {

    private FakeEc2 fake;
    private Ec2Client ec2;
    private String ami;

    @BeforeEach
    void start() {
        // poll-driven transitions only: deterministic states
        fake = FakeEc2.builder().pending(1, null).shuttingDown(1, null).start();
        ec2 = fake.ec2Client();
        ami = Ec2Fixtures.image(fake, ec2, "nixek-test-image");
    }

    /** Replaces the fake of this test with one built differently. */
    private void restart(FakeEc2.Builder builder) {
        stop();
        fake = builder.start();
        ec2 = fake.ec2Client();
        ami = Ec2Fixtures.image(fake, ec2, "nixek-test-image");
    }

    @AfterEach
    void stop() {
        ec2.close();
        fake.close();
    }

    private RunInstancesRequest.Builder launch(String token) {
        return RunInstancesRequest.builder().imageId(ami).minCount(1).maxCount(1)
                .instanceType(InstanceType.T3_MICRO).clientToken(token)
                .subnetId("subnet-0123456789abcdef0")
                .securityGroupIds("sg-0123456789abcdef0")
                .iamInstanceProfile(p -> p.name("nixek-runner"))
                .userData(b64("#!/bin/sh\necho job\n"))
                .metadataOptions(m -> m.httpTokens(HttpTokensState.REQUIRED).httpPutResponseHopLimit(1)
                        .httpEndpoint(InstanceMetadataEndpointState.ENABLED))
                .instanceInitiatedShutdownBehavior(ShutdownBehavior.TERMINATE)
                .tagSpecifications(
                        t -> t.resourceType(ResourceType.INSTANCE).tags(tag("nixek.dev/job-uid", token), tag("managed-by", "nixek")),
                        t -> t.resourceType(ResourceType.VOLUME).tags(tag("nixek.dev/job-uid", token)));
    }

    private static Tag tag(String k, String v) {
        return Tag.builder().key(k).value(v).build();
    }

    @Test
    void instanceLifecycleAndEveryLaunchParameterRoundTrips() {
        RunInstancesResponse run = ec2.runInstances(launch("job-1").build());
        Instance launched = run.instances().get(0);
        assertThat(run.reservationId()).startsWith("r-");
        assertThat(run.ownerId()).isEqualTo(fake.accountId());
        assertThat(launched.instanceId()).matches("i-[0-9a-f]{17}");
        assertThat(launched.state().name()).isEqualTo(InstanceStateName.PENDING);
        assertThat(launched.state().code()).isZero();
        assertThat(launched.clientToken()).isEqualTo("job-1");
        assertThat(launched.tags()).contains(tag("nixek.dev/job-uid", "job-1"), tag("managed-by", "nixek"));
        assertThat(launched.subnetId()).isEqualTo("subnet-0123456789abcdef0");
        assertThat(launched.securityGroups()).extracting(g -> g.groupId()).containsExactly("sg-0123456789abcdef0");
        assertThat(launched.iamInstanceProfile().arn()).isEqualTo("arn:aws:iam::123456789012:instance-profile/nixek-runner");
        assertThat(launched.metadataOptions().httpTokens()).isEqualTo(HttpTokensState.REQUIRED);
        assertThat(launched.metadataOptions().httpPutResponseHopLimit()).isEqualTo(1);
        assertThat(launched.metadataOptions().httpEndpoint()).isEqualTo(InstanceMetadataEndpointState.ENABLED);
        assertThat(launched.imageId()).isEqualTo(ami);
        assertThat(launched.instanceType()).isEqualTo(InstanceType.T3_MICRO);
        assertThat(launched.launchTime()).isNotNull();
        assertThat(launched.blockDeviceMappings()).singleElement()
                .satisfies(b -> assertThat(b.ebs().volumeId()).startsWith("vol-"));
        String id = launched.instanceId();

        // user data and shutdown behaviour are visible through DescribeInstanceAttribute, as on AWS
        String userData = ec2.describeInstanceAttribute(r -> r.instanceId(id).attribute(InstanceAttributeName.USER_DATA))
                .userData().value();
        assertThat(new String(Base64.getDecoder().decode(userData), StandardCharsets.UTF_8)).isEqualTo("#!/bin/sh\necho job\n");
        assertThat(ec2.describeInstanceAttribute(r -> r.instanceId(id)
                .attribute(InstanceAttributeName.INSTANCE_INITIATED_SHUTDOWN_BEHAVIOR))
                .instanceInitiatedShutdownBehavior().value()).isEqualTo("terminate");
        // volume tags from TagSpecifications(volume)
        assertThat(fake.instance(id).orElseThrow().volumeTags().values())
                .singleElement().isEqualTo(Map.of("nixek.dev/job-uid", "job-1"));

        // pending for one DescribeInstances observation, then running
        assertThat(describe(ec2, id).state().name()).isEqualTo(InstanceStateName.PENDING);
        assertThat(describe(ec2, id).state().name()).isEqualTo(InstanceStateName.RUNNING);
        assertThat(describe(ec2, id).state().code()).isEqualTo(16);

        TerminateInstancesResponse term = ec2.terminateInstances(r -> r.instanceIds(id));
        assertThat(term.terminatingInstances()).singleElement().satisfies(s -> {
            assertThat(s.instanceId()).isEqualTo(id);
            assertThat(s.previousState().name()).isEqualTo(InstanceStateName.RUNNING);
            assertThat(s.currentState().name()).isEqualTo(InstanceStateName.SHUTTING_DOWN);
            assertThat(s.currentState().code()).isEqualTo(32);
        });
        assertThat(describe(ec2, id).state().name()).isEqualTo(InstanceStateName.SHUTTING_DOWN);
        Instance gone = describe(ec2, id);
        assertThat(gone.state().name()).isEqualTo(InstanceStateName.TERMINATED);
        assertThat(gone.state().code()).isEqualTo(48);
        assertThat(gone.stateReason().code()).isEqualTo("Client.UserInitiatedShutdown");

        // terminating again is idempotent: terminated -> terminated
        assertThat(ec2.terminateInstances(r -> r.instanceIds(id)).terminatingInstances().get(0))
                .satisfies(s -> {
                    assertThat(s.previousState().name()).isEqualTo(InstanceStateName.TERMINATED);
                    assertThat(s.currentState().name()).isEqualTo(InstanceStateName.TERMINATED);
                });
    }

    @Test
    void clientTokenReplayReturnsTheSameReservationWithoutLaunching() {
        RunInstancesResponse first = ec2.runInstances(launch("job-replay").build());
        describe(ec2, first.instances().get(0).instanceId()); // observed once: next observation shows running

        RunInstancesResponse second = ec2.runInstances(launch("job-replay").build());

        assertThat(second.reservationId()).isEqualTo(first.reservationId());
        assertThat(second.instances()).extracting(Instance::instanceId)
                .containsExactlyElementsOf(first.instances().stream().map(Instance::instanceId).toList());
        assertThat(second.instances().get(0).state().name())
                .as("a replay shows the current state").isEqualTo(InstanceStateName.RUNNING);
        assertThat(fake.instances()).hasSize(1);
        assertThat(ec2.describeInstances().reservations()).flatExtracting(Reservation::instances).hasSize(1);
    }

    @Test
    void clientTokenWithDifferentParametersIsAMismatch() {
        ec2.runInstances(launch("job-mismatch").build());
        assertEc2Error(() -> ec2.runInstances(launch("job-mismatch").instanceType(InstanceType.C7_G_LARGE).build()),
                "IdempotentParameterMismatch", 400);
        assertEc2Error(() -> ec2.runInstances(launch("job-mismatch").userData(b64("other")).build()),
                "IdempotentParameterMismatch", 400);
        assertThat(fake.instances()).hasSize(1);
    }

    @Test
    void clientTokenOfTerminatedInstancesFailsIdempotentInstanceTerminated() {
        String id = ec2.runInstances(launch("job-term").build()).instances().get(0).instanceId();
        ec2.terminateInstances(r -> r.instanceIds(id));
        describe(ec2, id); // shutting-down
        assertThat(describe(ec2, id).state().name()).isEqualTo(InstanceStateName.TERMINATED);

        assertEc2Error(() -> ec2.runInstances(launch("job-term").build()), "IdempotentInstanceTerminated", 400);
        // a mismatch is still reported as a mismatch
        assertEc2Error(() -> ec2.runInstances(launch("job-term").maxCount(2).build()), "IdempotentParameterMismatch", 400);
        assertThat(fake.instances()).hasSize(1);
    }

    @Test
    void terminatedTokenCanBeConfiguredToReturnTheOriginalReservation() {
        try (FakeEc2 f = FakeEc2.builder().pending(0, null).shuttingDown(0, null)
                .terminatedTokenBehavior(TerminatedTokenBehavior.RETURN_ORIGINAL).start();
             Ec2Client c = f.ec2Client()) {
            ami = Ec2Fixtures.image(f, c, "nixek-orig");
            RunInstancesResponse first = c.runInstances(launch("job-orig").build());
            String id = first.instances().get(0).instanceId();
            c.terminateInstances(r -> r.instanceIds(id));
            assertThat(describe(c, id).state().name()).isEqualTo(InstanceStateName.TERMINATED);

            RunInstancesResponse replay = c.runInstances(launch("job-orig").build());
            assertThat(replay.reservationId()).isEqualTo(first.reservationId());
            assertThat(replay.instances().get(0).state().name()).isEqualTo(InstanceStateName.TERMINATED);
            assertThat(f.instances()).hasSize(1);
        }
    }

    @Test
    void clientTokenExpiresAfterTheConfiguredTimeSinceTermination() {
        TestClock clock = new TestClock();
        try (FakeEc2 f = FakeEc2.builder().clock(clock).pending(0, null).shuttingDown(0, null)
                .clientTokenExpiry(Duration.ofHours(24)).start();
             Ec2Client c = f.ec2Client()) {
            ami = Ec2Fixtures.image(f, c, "nixek-expiry");
            String first = c.runInstances(launch("job-exp").build()).instances().get(0).instanceId();
            clock.advance(Duration.ofHours(30));
            assertThat(c.runInstances(launch("job-exp").build()).instances().get(0).instanceId())
                    .as("a running instance keeps its token however old").isEqualTo(first);
            c.terminateInstances(r -> r.instanceIds(first));
            assertThat(describe(c, first).state().name()).isEqualTo(InstanceStateName.TERMINATED);
            clock.advance(Duration.ofHours(23));
            assertEc2Error(() -> c.runInstances(launch("job-exp").build()), "IdempotentInstanceTerminated", 400);

            clock.advance(Duration.ofHours(2));
            String second = c.runInstances(launch("job-exp").build()).instances().get(0).instanceId();
            assertThat(second).isNotEqualTo(first);
            assertThat(f.instances()).hasSize(2);
        }
    }

    @Test
    void sdkGeneratesATokenWhenNoneIsGivenSoEveryCallLaunches() {
        Consumer<RunInstancesRequest.Builder> r = b -> b.imageId(ami).minCount(1).maxCount(1);
        String a = ec2.runInstances(r).instances().get(0).clientToken();
        String b = ec2.runInstances(r).instances().get(0).clientToken();
        assertThat(a).isNotBlank().isNotEqualTo(b);
        assertThat(fake.instances()).hasSize(2);
    }

    @Test
    void maxCountLaunchesSeveralInstancesInOneReservation() {
        RunInstancesResponse run = ec2.runInstances(launch("job-multi").minCount(2).maxCount(3).build());
        assertThat(run.instances()).hasSize(3);
        assertThat(run.instances()).extracting(Instance::amiLaunchIndex).containsExactly(0, 1, 2);
        DescribeInstancesResponse d = ec2.describeInstances();
        assertThat(d.reservations()).singleElement().satisfies(r -> assertThat(r.instances()).hasSize(3));
        assertEc2Error(() -> ec2.runInstances(launch("job-bad").minCount(3).maxCount(2).build()), "InvalidParameterValue", 400);
    }

    @Test
    void runInstancesValidatesImageAndParameters() {
        assertEc2Error(() -> ec2.runInstances(launch("x1").imageId("ami-0000000000000dead").build()), "InvalidAMIID.NotFound", 400)
                .hasMessageContaining("ami-0000000000000dead");
        assertEc2Error(() -> ec2.runInstances(launch("x2").imageId("not-an-ami").build()), "InvalidAMIID.Malformed", 400);
        assertEc2Error(() -> ec2.runInstances(launch("x3").userData("***not base64***").build()), "InvalidParameterValue", 400);
        assertEc2Error(() -> ec2.runInstances(launch("x4").metadataOptions(m -> m.httpPutResponseHopLimit(65)).build()),
                "InvalidParameterValue", 400);
        assertEc2Error(() -> ec2.runInstances(launch("x5").tagSpecifications(
                t -> t.resourceType(ResourceType.IMAGE).tags(tag("a", "b"))).build()), "InvalidParameterValue", 400);
        assertEc2Error(() -> ec2.runInstances(launch("x6").userData(Base64.getEncoder().encodeToString(new byte[16385])).build()),
                "InvalidParameterValue", 400);
        assertThat(fake.instances()).isEmpty();
    }

    @Test
    void describeFiltersByTagsStateAndClientToken() {
        restart(FakeEc2.builder().pending(Integer.MAX_VALUE, null).shuttingDown(Integer.MAX_VALUE, null)); // frozen states
        String a = ec2.runInstances(launch("tok-a").build()).instances().get(0).instanceId();
        String b = ec2.runInstances(launch("tok-b").tagSpecifications(
                t -> t.resourceType(ResourceType.INSTANCE).tags(tag("team", "ci-blue"))).build()).instances().get(0).instanceId();
        ec2.terminateInstances(r -> r.instanceIds(b));

        assertThat(ids(f -> f.name("tag:nixek.dev/job-uid").values("tok-a"))).containsExactly(a);
        assertThat(ids(f -> f.name("tag:nixek.dev/job-uid").values("tok-*"))).containsExactly(a);
        assertThat(ids(f -> f.name("tag-key").values("team"))).containsExactly(b);
        assertThat(ids(f -> f.name("tag:team").values("ci-?lue"))).containsExactly(b);
        assertThat(ids(f -> f.name("client-token").values("tok-b"))).containsExactly(b);
        assertThat(ids(f -> f.name("instance-state-name").values("shutting-down"))).containsExactly(b);
        assertThat(ids(f -> f.name("instance-state-name").values("pending", "running"))).containsExactly(a);
        assertThat(ids(f -> f.name("tag:nixek.dev/job-uid").values("nope"))).isEmpty();
        // several filters are ANDed
        assertThat(ec2.describeInstances(r -> r.filters(
                Filter.builder().name("tag-key").values("managed-by").build(),
                Filter.builder().name("instance-state-name").values("pending").build())).reservations())
                .flatExtracting(Reservation::instances).extracting(Instance::instanceId).containsExactly(a);
        assertEc2Error(() -> ec2.describeInstances(r -> r.filters(f -> f.name("no-such-filter").values("x"))),
                "InvalidParameterValue", 400);
    }

    private List<String> ids(Consumer<Filter.Builder> filter) {
        return ec2.describeInstances(r -> r.filters(filter)).reservations().stream()
                .flatMap(r -> r.instances().stream()).map(Instance::instanceId).toList();
    }

    @Test
    void describeByUnknownOrMalformedIdFails() {
        assertEc2Error(() -> ec2.describeInstances(r -> r.instanceIds("i-0123456789abcdef0")), "InvalidInstanceID.NotFound", 400)
                .hasMessageContaining("i-0123456789abcdef0");
        assertEc2Error(() -> ec2.describeInstances(r -> r.instanceIds("bogus")), "InvalidInstanceID.Malformed", 400);
        assertEc2Error(() -> ec2.terminateInstances(r -> r.instanceIds("i-0123456789abcdef0")), "InvalidInstanceID.NotFound", 400);
    }

    @Test
    void describePagesWithMaxResultsAndNextToken() {
        ec2.runInstances(launch("page").minCount(12).maxCount(12).build());
        Set<String> seen = new HashSet<>();
        List<Integer> pageSizes = new ArrayList<>();
        String next = null;
        do {
            String token = next;
            DescribeInstancesResponse page = ec2.describeInstances(r -> r.maxResults(5).nextToken(token));
            List<String> pageIds = page.reservations().stream().flatMap(r -> r.instances().stream())
                    .map(Instance::instanceId).toList();
            pageSizes.add(pageIds.size());
            seen.addAll(pageIds);
            next = page.nextToken();
        } while (next != null);
        assertThat(pageSizes).containsExactly(5, 5, 2);
        assertThat(seen).hasSize(12);
        // the SDK paginator walks the same pages
        assertThat(ec2.describeInstancesPaginator(r -> r.maxResults(5)).reservations().stream().mapToLong(r -> r.instances().size()).sum()).isEqualTo(12);

        assertEc2Error(() -> ec2.describeInstances(r -> r.maxResults(5).nextToken("garbage")), "InvalidPaginationToken", 400);
        assertEc2Error(() -> ec2.describeInstances(r -> r.maxResults(3)), "InvalidParameterValue", 400);
        String one = seen.iterator().next();
        assertEc2Error(() -> ec2.describeInstances(r -> r.maxResults(5).instanceIds(one)), "InvalidParameterCombination", 400);
    }

    @Test
    void terminatedInstancesDisappearAfterTheVisibilityPeriod() {
        TestClock clock = new TestClock();
        try (FakeEc2 f = FakeEc2.builder().clock(clock).pending(0, null).shuttingDown(0, null)
                .terminatedVisibility(Duration.ofMinutes(60)).start();
             Ec2Client c = f.ec2Client()) {
            ami = Ec2Fixtures.image(f, c, "nixek-vis");
            String id = c.runInstances(launch("vis").build()).instances().get(0).instanceId();
            c.terminateInstances(r -> r.instanceIds(id));
            assertThat(describe(c, id).state().name()).isEqualTo(InstanceStateName.TERMINATED);
            clock.advance(Duration.ofMinutes(59));
            assertThat(describe(c, id).state().name()).isEqualTo(InstanceStateName.TERMINATED);
            clock.advance(Duration.ofMinutes(2));
            assertEc2Error(() -> c.describeInstances(r -> r.instanceIds(id)), "InvalidInstanceID.NotFound", 400);
            assertThat(c.describeInstances().reservations()).isEmpty();
        }
    }

    @Test
    void timeAloneMovesInstancesAlongWhenNobodyPolls() {
        try (FakeEc2 f = FakeEc2.builder().pending(100, Duration.ofMillis(50)).shuttingDown(100, Duration.ofMillis(50)).start();
             Ec2Client c = f.ec2Client()) {
            ami = Ec2Fixtures.image(f, c, "nixek-time");
            String id = c.runInstances(launch("time").build()).instances().get(0).instanceId();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> f.instance(id).orElseThrow().state() == InstanceState.RUNNING);
            c.terminateInstances(r -> r.instanceIds(id));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> f.instance(id).orElseThrow().state() == InstanceState.TERMINATED);
            assertThat(describe(c, id).state().name()).isEqualTo(InstanceStateName.TERMINATED);
        }
    }

    @Test
    void spotCapacityFaultsOnlyHitSpotRequests() {
        try (Ec2Client noRetry = Ec2Fixtures.noRetries(fake)) {
            fake.faults().insufficientSpotCapacity(1).spotMaxPriceTooLow(1);
            // on-demand is untouched and does not consume the spot faults
            assertThat(noRetry.runInstances(launch("od").build()).instances()).hasSize(1);

            RunInstancesRequest spot = launch("spot-1").instanceMarketOptions(m -> m.marketType(MarketType.SPOT)).build();
            assertEc2Error(() -> noRetry.runInstances(spot), "InsufficientInstanceCapacity", 500);
            assertEc2Error(() -> noRetry.runInstances(spot), "SpotMaxPriceTooLow", 400);
            Instance launched = noRetry.runInstances(spot).instances().get(0);
            assertThat(launched.instanceLifecycleAsString()).isEqualTo("spot");
            assertThat(launched.spotInstanceRequestId()).startsWith("sir-");
            assertThat(fake.instances()).hasSize(2);
        }
    }

    @Test
    void createAndDeleteTagsOnInstances() {
        String id = ec2.runInstances(launch("tags").build()).instances().get(0).instanceId();
        ec2.createTags(r -> r.resources(id).tags(tag("Name", "runner"), tag("empty", "")));
        assertThat(describe(ec2, id).tags()).contains(tag("Name", "runner"), tag("empty", ""));
        ec2.deleteTags(r -> r.resources(id).tags(Tag.builder().key("Name").build()));
        ec2.deleteTags(r -> r.resources(id).tags(tag("managed-by", "someone-else")));
        assertThat(describe(ec2, id).tags()).extracting(Tag::key)
                .containsExactlyInAnyOrder("nixek.dev/job-uid", "managed-by", "empty");
        assertEc2Error(() -> ec2.createTags(r -> r.resources("i-0000000000000beef").tags(tag("a", "b"))),
                "InvalidInstanceID.NotFound", 400);
        assertEc2Error(() -> ec2.createTags(r -> r.resources(id).tags(tag("aws:reserved", "b"))), "InvalidParameterValue", 400);
        // resource kinds the fake does not model keep their tags too
        ec2.createTags(r -> r.resources("sg-0123456789abcdef0").tags(tag("a", "b")));
        assertThat(fake.otherResourceTags()).containsEntry("sg-0123456789abcdef0", Map.of("a", "b"));
    }
}
