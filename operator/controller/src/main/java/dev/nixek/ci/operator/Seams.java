package dev.nixek.ci.operator;

import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.operator.image.ImageCrashPoints;
import dev.nixek.ci.operator.job.CrashPoints;
import dev.nixek.ci.operator.machine.MachineProvider;
import java.time.Clock;
import java.util.Objects;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;

/**
 * What tests replace when they start the operator with {@link Main#start}; production uses {@link #production()}.
 *
 * @param clock the operator's clock
 * @param provider the machine provider; null for the one the configuration names
 * @param crashPoints the jobs' crash points (crash tests kill the operator there)
 * @param imageCrashPoints the images' crash points
 * @param awsCredentials the AWS credentials; null for the SDK's default chain (IRSA / pod identity, environment,
 *     profile)
 * @param onFatal runs when the operator can no longer do its work (it lost its Lease, or an informer stopped for
 *     good); production exits so that the pod restarts, tests record it
 * @param logStore the step-log store whose logs the operator deletes; null for the one the configuration names
 */
public record Seams(Clock clock, MachineProvider provider, CrashPoints crashPoints, ImageCrashPoints imageCrashPoints,
    AwsCredentialsProvider awsCredentials, Runnable onFatal, LogStore logStore) {
  public Seams {
    Objects.requireNonNull(clock);
    Objects.requireNonNull(crashPoints);
    Objects.requireNonNull(imageCrashPoints);
    Objects.requireNonNull(onFatal);
  }

  /** The real clock, the configured provider, no crash points, the SDK's credentials, exit on a fatal error. */
  public static Seams production() {
    return new Seams(Clock.systemUTC(), null, CrashPoints.NONE, ImageCrashPoints.NONE, null, Seams::exit,
        null);
  }

  public Seams withProvider(MachineProvider provider) {
    return new Seams(clock, provider, crashPoints, imageCrashPoints, awsCredentials, onFatal, logStore);
  }

  public Seams withCrashPoints(CrashPoints crashPoints) {
    return new Seams(clock, provider, crashPoints, imageCrashPoints, awsCredentials, onFatal, logStore);
  }

  public Seams withImageCrashPoints(ImageCrashPoints imageCrashPoints) {
    return new Seams(clock, provider, crashPoints, imageCrashPoints, awsCredentials, onFatal, logStore);
  }

  public Seams withAwsCredentials(AwsCredentialsProvider awsCredentials) {
    return new Seams(clock, provider, crashPoints, imageCrashPoints, awsCredentials, onFatal, logStore);
  }

  public Seams withOnFatal(Runnable onFatal) {
    return new Seams(clock, provider, crashPoints, imageCrashPoints, awsCredentials, onFatal, logStore);
  }

  public Seams withLogStore(LogStore logStore) {
    return new Seams(clock, provider, crashPoints, imageCrashPoints, awsCredentials, onFatal, logStore);
  }

  private static void exit() {
    // reconciles already running could overlap a new leader's: end them with the process (the pod restarts)
    System.exit(1);
  }
}
