package dev.nixek.ci.testing.aws.ec2;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.ArchitectureValues;
import software.amazon.awssdk.services.ec2.model.BootModeValues;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.ImdsSupportValues;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.VolumeType;

@SuppressWarnings("unchecked") // the SDK's Consumer<...>... varargs
final class Ec2Fixtures {

    private Ec2Fixtures() {
    }

    /** Registers an image through the SDK on a seeded snapshot; returns the AMI id. */
    static String image(FakeEc2 fake, Ec2Client ec2, String name) {
        String snap = fake.seedSnapshot(2, Map.of());
        return ec2.registerImage(r -> r.name(name).architecture(ArchitectureValues.X86_64)
                .rootDeviceName("/dev/xvda").enaSupport(true).bootMode(BootModeValues.UEFI)
                .imdsSupport(ImdsSupportValues.V2_0).virtualizationType("hvm")
                .blockDeviceMappings(b -> b.deviceName("/dev/xvda")
                        .ebs(e -> e.snapshotId(snap).volumeType(VolumeType.GP3).volumeSize(4).deleteOnTermination(true))))
                .imageId();
    }

    static Ec2Client noRetries(FakeEc2 fake) {
        return fake.ec2Client(b -> b.overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry())));
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static Instance describe(Ec2Client ec2, String instanceId) {
        return ec2.describeInstances(r -> r.instanceIds(instanceId)).reservations().get(0).instances().get(0);
    }

    /** Asserts an {@link Ec2Exception} with this error code and HTTP status. */
    static AbstractThrowableAssert<?, ? extends Throwable> assertEc2Error(ThrowingCallable call, String code, int status) {
        return assertThatThrownBy(call)
                .isInstanceOf(Ec2Exception.class)
                .satisfies(e -> {
                    Ec2Exception ex = (Ec2Exception) e;
                    org.assertj.core.api.Assertions.assertThat(ex.awsErrorDetails().errorCode()).isEqualTo(code);
                    org.assertj.core.api.Assertions.assertThat(ex.statusCode()).isEqualTo(status);
                });
    }
}
