package dev.nixek.ci.operator.aws;

import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;

/** What AWS error codes mean for images. */
public final class AwsErrors {
  private AwsErrors() {}

  public static String code(SdkException e) {
    if (e instanceof AwsServiceException a && a.awsErrorDetails() != null) {
      return a.awsErrorDetails().errorCode();
    }
    return null;
  }

  /**
   * A resource AWS does not know (yet, or any more: eventual consistency makes the two look alike). EC2 answers an
   * unknown import task with {@code InvalidConversionTaskId}, without the usual {@code .NotFound}.
   */
  public static boolean isNotFound(SdkException e) {
    String c = code(e);
    return c != null && (c.endsWith(".NotFound") || c.equals("InvalidConversionTaskId") || c.equals("NoSuchKey")
        || c.equals("NotFound"));
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
