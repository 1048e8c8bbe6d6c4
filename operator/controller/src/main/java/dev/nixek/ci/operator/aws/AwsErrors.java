package dev.nixek.ci.operator.aws;

import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;

/** What AWS error codes mean for nixek-ci: the ec2 provider's launches and the images' EC2 and S3 calls. */
public final class AwsErrors {
  /** The RunInstances replay used other parameters than the first call with this ClientToken. */
  static final String IDEMPOTENT_PARAMETER_MISMATCH = "IdempotentParameterMismatch";
  /** Every instance launched with this ClientToken is terminated. */
  static final String IDEMPOTENT_INSTANCE_TERMINATED = "IdempotentInstanceTerminated";

  /** Spot has no room (or no room at our price): worth an on-demand launch. */
  private static final Set<String> SPOT_CAPACITY = Set.of("InsufficientInstanceCapacity", "SpotMaxPriceTooLow",
      "MaxSpotInstanceCountExceeded", "InsufficientCapacity", "UnfulfillableCapacity", "InsufficientFreeAddressesInSubnet");

  /**
   * Launches EC2 will refuse however often they are repeated. Not-found errors are not here: right after something
   * is created EC2 may not know it yet, so they are retried.
   */
  private static final Set<String> PERMANENT = Set.of(IDEMPOTENT_PARAMETER_MISMATCH, "InvalidParameterValue",
      "InvalidParameterCombination", "InvalidParameter", "MissingParameter", "InvalidAMIID.Malformed",
      "InvalidUserData.Malformed", "Unsupported", "UnsupportedOperation", "InvalidInstanceType",
      "InvalidBlockDeviceMapping", "InvalidGroupId.Malformed", "InvalidSubnetID.Malformed");

  private AwsErrors() {}

  public static String code(SdkException e) {
    if (e instanceof AwsServiceException a && a.awsErrorDetails() != null) {
      return a.awsErrorDetails().errorCode();
    }
    return null;
  }

  /**
   * A resource AWS does not know (yet, or any more: eventual consistency makes the two look alike). Besides the usual
   * {@code *.NotFound}: EC2 answers an unknown import task with {@code InvalidConversionTaskId} and an instance id it
   * has never seen with {@code InvalidInstanceID.Malformed}; S3 answers {@code NoSuchKey} or {@code NotFound}.
   */
  public static boolean isNotFound(SdkException e) {
    String c = code(e);
    return c != null && (c.endsWith(".NotFound") || c.equals("InvalidInstanceID.Malformed")
        || c.equals("InvalidConversionTaskId") || c.equals("NoSuchKey") || c.equals("NotFound"));
  }

  static boolean isSpotCapacity(String code) {
    return code != null && SPOT_CAPACITY.contains(code);
  }

  static boolean isPermanent(String code) {
    return code != null && PERMANENT.contains(code);
  }

  /** One line for a condition message or a log: the error code and AWS's message, no request-id noise. */
  public static String describe(Exception e) {
    if (e instanceof AwsServiceException a && a.awsErrorDetails() != null) {
      String message = a.awsErrorDetails().errorMessage();
      return a.awsErrorDetails().errorCode() + (message == null ? "" : ": " + message);
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
