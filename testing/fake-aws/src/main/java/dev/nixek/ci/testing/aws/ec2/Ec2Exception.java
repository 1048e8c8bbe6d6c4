package dev.nixek.ci.testing.aws.ec2;

/** An EC2 error response: HTTP status, error code, message. */
final class Ec2Exception extends RuntimeException {

    private static final long serialVersionUID = 1L;

    final int status;
    final String code;

    Ec2Exception(int status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    static Ec2Exception client(String code, String message) {
        return new Ec2Exception(400, code, message);
    }
}
