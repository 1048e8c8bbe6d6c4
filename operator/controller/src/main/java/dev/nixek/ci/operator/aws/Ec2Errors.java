package dev.nixek.ci.operator.aws;

import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;

/** What EC2's error codes mean for nixek-ci. */
final class Ec2Errors {
  /** The RunInstances replay used other parameters than the first call with this ClientToken. */
  static final String IDEMPOTENT_PARAMETER_MISMATCH = "IdempotentParameterMismatch";
  /** Every instance launched with this ClientToken is terminated. */
  static final String IDEMPOTENT_INSTANCE_TERMINATED = "IdempotentInstanceTerminated";

  /** Spot has no room (or no room at our price): worth an on-demand launch. */
  private static final Set<String> SPOT_CAPACITY = Set.of("InsufficientInstanceCapacity", "SpotMaxPriceTooLow",
      "MaxSpotInstanceCountExceeded", "InsufficientCapacity", "UnfulfillableCapacity", "InsufficientFreeAddressesInSubnet");

  /**
   * Requests EC2 will refuse however often they are repeated. Not-found errors are not here: right after something
   * is created EC2 may not know it yet, so they are retried.
   */
  private static final Set<String> PERMANENT = Set.of(IDEMPOTENT_PARAMETER_MISMATCH, "InvalidParameterValue",
      "InvalidParameterCombination", "InvalidParameter", "MissingParameter", "InvalidAMIID.Malformed",
      "InvalidUserData.Malformed", "Unsupported", "UnsupportedOperation", "InvalidInstanceType",
      "InvalidBlockDeviceMapping", "InvalidGroupId.Malformed", "InvalidSubnetID.Malformed");

  private Ec2Errors() {}

  static String code(SdkException e) {
    if (e instanceof AwsServiceException a && a.awsErrorDetails() != null) {
      return a.awsErrorDetails().errorCode();
    }
    return null;
  }

  static boolean isNotFound(SdkException e) {
    String c = code(e);
    return c != null && (c.endsWith(".NotFound") || c.endsWith(".Malformed") && c.startsWith("InvalidInstanceID"));
  }

  static boolean isSpotCapacity(String code) {
    return code != null && SPOT_CAPACITY.contains(code);
  }

  static boolean isPermanent(String code) {
    return code != null && PERMANENT.contains(code);
  }

  /** A short description without the request id noise. */
  static String describe(SdkException e) {
    String c = code(e);
    if (e instanceof AwsServiceException a && a.awsErrorDetails() != null) {
      return c + ": " + a.awsErrorDetails().errorMessage();
    }
    return e.getMessage();
  }
}
