package dev.nixek.ci.testing.aws.ec2;

/**
 * What a {@code RunInstances} replay answers when its ClientToken belongs to instances that are all
 * terminated (within the token's validity).
 */
public enum TerminatedTokenBehavior {
    /**
     * Error {@code IdempotentInstanceTerminated} (HTTP 400): "The request to launch an instance uses the same
     * client token as a previous request for which the instance has been terminated." (EC2 error-code list).
     */
    ERROR,
    /** Return the original reservation, showing the instances as terminated (the same response, updated state). */
    RETURN_ORIGINAL
}
