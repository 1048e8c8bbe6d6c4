package dev.nixek.ci.testing.aws.ec2;

import static dev.nixek.ci.testing.aws.ec2.Ec2Fixtures.assertEc2Error;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.InstanceType;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Tag;

/** Fault injection, eventual consistency and call recording. */
@SuppressWarnings("unchecked") // the SDK's Consumer<...>... varargs
class FakeEc2FaultsTest {

    private final TestClock clock = new TestClock();
    private FakeEc2 fake;
    private Ec2Client ec2;
    private Ec2Client noRetry;
    private String ami;

    @BeforeEach
    void start() {
        fake = FakeEc2.builder().clock(clock).pending(1, null).shuttingDown(1, null).start();
        ec2 = fake.ec2Client();
        noRetry = Ec2Fixtures.noRetries(fake);
        ami = Ec2Fixtures.image(fake, ec2, "nixek-faults");
        fake.reset();
    }

    @AfterEach
    void stop() {
        noRetry.close();
        ec2.close();
        fake.close();
    }

    private RunInstancesRequest launch(String token) {
        return RunInstancesRequest.builder().imageId(ami).minCount(1).maxCount(1).instanceType(InstanceType.T3_MICRO)
                .clientToken(token)
                .tagSpecifications(t -> t.resourceType(ResourceType.INSTANCE)
                        .tags(Tag.builder().key("nixek.dev/job-uid").value(token).build()))
                .build();
    }

    @Test
    void throttlingSurfacesAsRequestLimitExceededWithoutRetries() {
        fake.faults().throttle("DescribeInstances", 1);
        assertEc2Error(() -> noRetry.describeInstances(), "RequestLimitExceeded", 503);
        assertThat(noRetry.describeInstances().reservations()).isEmpty();
        assertThat(fake.calls("DescribeInstances")).extracting(Ec2Call::errorCode).containsExactly("RequestLimitExceeded", null);
    }

    @Test
    void defaultSdkRetriesGetThroughTwoThrottles() {
        fake.faults().throttle("RunInstances", 2);
        String id = ec2.runInstances(launch("retry-me")).instances().get(0).instanceId();
        assertThat(fake.count("RunInstances")).isEqualTo(3);
        assertThat(fake.calls("RunInstances")).extracting(Ec2Call::status).containsExactly(503, 503, 200);
        // the SDK resent the same ClientToken on every attempt; one instance exists
        assertThat(fake.calls("RunInstances")).extracting(c -> c.param("ClientToken")).containsOnly("retry-me");
        assertThat(fake.instances()).extracting(Views.InstanceView::instanceId).containsExactly(id);
    }

    @Test
    void serverErrorsAndUnavailable() {
        fake.faults().serverError("DescribeImages", 1).unavailable("DescribeImages", 1)
                .error("DescribeSnapshots", 400, "UnauthorizedOperation", "You are not authorized", 1);
        assertEc2Error(() -> noRetry.describeImages(), "InternalError", 500);
        assertEc2Error(() -> noRetry.describeImages(), "Unavailable", 503);
        assertThat(noRetry.describeImages().images()).hasSize(1);
        assertEc2Error(() -> noRetry.describeSnapshots(), "UnauthorizedOperation", 400);
        // "*" hits every action
        fake.faults().throttle(Ec2Faults.ANY, 1);
        assertEc2Error(() -> noRetry.describeSnapshots(), "RequestLimitExceeded", 503);
        fake.faults().serverError("DescribeImages", 5);
        fake.faults().clear();
        assertThat(noRetry.describeImages().images()).hasSize(1);
    }

    @Test
    void aThrottledRunInstancesLaunchesNothingAndKeepsTheTokenFree() {
        fake.faults().throttle("RunInstances", 1);
        assertEc2Error(() -> noRetry.runInstances(launch("t1")), "RequestLimitExceeded", 503);
        assertThat(fake.instances()).isEmpty();
        assertThat(noRetry.runInstances(launch("t1")).instances()).hasSize(1);
    }

    @Test
    void newInstancesAreInvisibleToDescribeDuringTheConsistencyWindow() {
        fake.faults().notFoundFor("DescribeInstances", Duration.ofSeconds(5))
                .notFoundFor("TerminateInstances", Duration.ofSeconds(2))
                .notFoundFor("CreateTags", Duration.ofSeconds(2));
        String id = ec2.runInstances(launch("ec-1")).instances().get(0).instanceId();

        assertEc2Error(() -> ec2.describeInstances(r -> r.instanceIds(id)), "InvalidInstanceID.NotFound", 400);
        assertThat(ec2.describeInstances(r -> r.filters(f -> f.name("tag:nixek.dev/job-uid").values("ec-1")))
                .reservations()).as("simply absent from filtered lists").isEmpty();
        assertThat(ec2.describeInstances().reservations()).isEmpty();
        assertEc2Error(() -> ec2.createTags(r -> r.resources(id).tags(Tag.builder().key("a").value("b").build())),
                "InvalidInstanceID.NotFound", 400);
        assertEc2Error(() -> ec2.terminateInstances(r -> r.instanceIds(id)), "InvalidInstanceID.NotFound", 400);
        // a RunInstances replay sees the instance at once: the ClientToken is not eventually consistent
        assertThat(ec2.runInstances(launch("ec-1")).instances().get(0).instanceId()).isEqualTo(id);
        assertThat(fake.instances()).hasSize(1);

        clock.advance(Duration.ofSeconds(3));
        // terminate and tag work now, describe still does not see it
        assertThat(ec2.terminateInstances(r -> r.instanceIds(id)).terminatingInstances().get(0).currentState().name())
                .isEqualTo(InstanceStateName.SHUTTING_DOWN);
        assertEc2Error(() -> ec2.describeInstances(r -> r.instanceIds(id)), "InvalidInstanceID.NotFound", 400);

        clock.advance(Duration.ofSeconds(3));
        assertThat(ec2.describeInstances(r -> r.instanceIds(id)).reservations())
                .flatExtracting(Reservation::instances).extracting(Instance::instanceId).containsExactly(id);
    }

    @Test
    void newImagesAndImportTasksAreInvisibleDuringTheWindowToo() {
        clock.advance(Duration.ofMinutes(1)); // the image made in start() is old now
        fake.faults().notFoundFor("DescribeImages", Duration.ofSeconds(2))
                .notFoundFor("RunInstances", Duration.ofSeconds(2))
                .notFoundFor("DescribeImportSnapshotTasks", Duration.ofSeconds(2));
        String fresh = Ec2Fixtures.image(fake, ec2, "nixek-fresh");
        assertEc2Error(() -> ec2.describeImages(r -> r.imageIds(fresh)), "InvalidAMIID.NotFound", 400);
        assertThat(ec2.describeImages(r -> r.filters(f -> f.name("name").values("nixek-fresh"))).images()).isEmpty();
        assertThat(ec2.describeImages(r -> r.filters(f -> f.name("name").values("nixek-faults"))).images())
                .as("older images are visible").hasSize(1);
        assertEc2Error(() -> ec2.runInstances(r -> r.imageId(fresh).minCount(1).maxCount(1)), "InvalidAMIID.NotFound", 400);
        String task = ec2.importSnapshot(r -> r.diskContainer(d -> d.format("RAW")
                .userBucket(u -> u.s3Bucket("b").s3Key("k")))).importTaskId();
        assertEc2Error(() -> ec2.describeImportSnapshotTasks(r -> r.importTaskIds(task)), "InvalidConversionTaskId", 400);
        clock.advance(Duration.ofSeconds(2));
        assertThat(ec2.describeImages(r -> r.imageIds(fresh)).images()).hasSize(1);
        assertThat(ec2.describeImportSnapshotTasks(r -> r.importTaskIds(task)).importSnapshotTasks()).hasSize(1);
    }

    @Test
    void delayMakesTheAnswerLate() {
        fake.faults().delay("DescribeImages", Duration.ofMillis(400));
        long t0 = System.nanoTime();
        ec2.describeImages();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
        long t1 = System.nanoTime();
        ec2.describeSnapshots();
        assertThat(Duration.ofNanos(System.nanoTime() - t1)).isLessThan(Duration.ofMillis(400));
    }

    @Test
    void callsAreRecordedWithParametersAndAccessKey() {
        try (Ec2Client other = fake.ec2Client(b -> b.credentialsProvider(() ->
                software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("AKIAOTHERKEY", "s")))) {
            other.describeInstances(r -> r.instanceIds("i-0123456789abcdef0", "i-0123456789abcdef1"));
        } catch (software.amazon.awssdk.services.ec2.model.Ec2Exception expected) {
            assertThat(expected.awsErrorDetails().errorMessage()).contains("do not exist");
        }
        ec2.describeImages(r -> r.owners("self").filters(f -> f.name("name").values("a", "b")));
        assertThat(fake.count("DescribeInstances")).isEqualTo(1);
        Ec2Call d = fake.calls("DescribeInstances").get(0);
        assertThat(d.accessKeyId()).isEqualTo("AKIAOTHERKEY");
        assertThat(d.params()).containsEntry("InstanceId.1", "i-0123456789abcdef0").containsEntry("InstanceId.2", "i-0123456789abcdef1");
        assertThat(d.errorCode()).isEqualTo("InvalidInstanceID.NotFound");
        assertThat(d.status()).isEqualTo(400);
        Ec2Call i = fake.calls("DescribeImages").get(0);
        assertThat(i.params()).containsAllEntriesOf(Map.of("Owner.1", "self", "Filter.1.Name", "name",
                "Filter.1.Value.1", "a", "Filter.1.Value.2", "b", "Version", "2016-11-15"));
        assertThat(i.succeeded()).isTrue();
        fake.reset();
        assertThat(fake.calls()).isEmpty();
    }

    @Test
    void unsignedOrUnknownRequestsAreRefused() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> unsigned = http.send(HttpRequest.newBuilder(URI.create(fake.endpoint() + "/"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("Action=DescribeInstances&Version=2016-11-15")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unsigned.statusCode()).isEqualTo(401);
        assertThat(unsigned.body()).contains("<Code>AuthFailure</Code>").contains("<RequestID>");

        HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(URI.create(fake.endpoint() + "/"))
                .header("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/ec2/aws4_request, "
                        + "SignedHeaders=host, Signature=00")
                .POST(HttpRequest.BodyPublishers.ofString("Action=RebootInstances&Version=2016-11-15")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).startsWith("<?xml").contains("<Response><Errors><Error><Code>InvalidAction</Code>");
        assertThat(fake.calls()).extracting(Ec2Call::accessKeyId).containsExactly(null, "AKIAX");
    }
}
