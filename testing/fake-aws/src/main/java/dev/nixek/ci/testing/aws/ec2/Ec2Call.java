package dev.nixek.ci.testing.aws.ec2;

import java.time.Instant;
import java.util.Map;

/**
 * One request received by {@link FakeEc2}.
 *
 * @param action      the {@code Action} parameter
 * @param params      every form parameter as sent (e.g. {@code InstanceId.1}, {@code Filter.1.Name})
 * @param accessKeyId the access key from the SigV4 {@code Authorization} header ({@code null} if absent)
 * @param status      the HTTP status answered
 * @param errorCode   the EC2 error code answered, or {@code null} on success
 * @param at          when the request arrived
 */
public record Ec2Call(String action, Map<String, String> params, String accessKeyId, int status, String errorCode,
                      Instant at) {

    public String param(String name) {
        return params.get(name);
    }

    public boolean succeeded() {
        return status == 200;
    }
}
