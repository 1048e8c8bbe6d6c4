package dev.nixek.ci.testing.aws.ec2;

import dev.nixek.ci.testing.aws.S3ObjectLookup;
import java.time.Clock;
import java.time.Duration;

/** Settings of a {@link FakeEc2}; see {@link FakeEc2.Builder} for their meaning and defaults. */
final class Ec2Config {
    String accountId = "123456789012";
    String region = "us-east-1";
    Clock clock = Clock.systemUTC();
    S3ObjectLookup s3ObjectLookup = S3ObjectLookup.acceptAll(1L << 30);
    int importPolls = 3;
    int pendingPolls = 1;
    Duration pendingTime = Duration.ofMillis(100);
    int shuttingDownPolls = 1;
    Duration shuttingDownTime = Duration.ofMillis(100);
    Duration terminatedVisibility = Duration.ofHours(1);
    Duration clientTokenExpiry; // null: never
    TerminatedTokenBehavior terminatedTokenBehavior = TerminatedTokenBehavior.ERROR;
    boolean requireSignature = true;
    Duration tickInterval = Duration.ofMillis(20);
}
