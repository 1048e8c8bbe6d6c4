package dev.nixek.ci.testing.aws;

import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Answers "does this S3 object exist, and how large is it?" for the fake EC2 endpoint's
 * {@code ImportSnapshot}, which (like the real VM Import service) refuses an object it cannot read.
 */
@FunctionalInterface
public interface S3ObjectLookup {

    /** The object's size in bytes, or empty when it does not exist (or cannot be read). */
    OptionalLong objectSize(String bucket, String key);

    /** Every object exists and has the given size (the default when no lookup is configured). */
    static S3ObjectLookup acceptAll(long size) {
        return (bucket, key) -> OptionalLong.of(size);
    }

    /** A fixed set of objects: keys are {@code "bucket/key"}. */
    static S3ObjectLookup of(Map<String, Long> objects) {
        Map<String, Long> copy = Map.copyOf(objects);
        return (bucket, key) -> {
            Long size = copy.get(bucket + "/" + key);
            return size == null ? OptionalLong.empty() : OptionalLong.of(size);
        };
    }

    /** Looks objects up with {@code HeadObject} through a real S3 client (e.g. against s3proxy). */
    static S3ObjectLookup using(S3Client s3) {
        Objects.requireNonNull(s3, "s3");
        return (bucket, key) -> {
            try {
                HeadObjectResponse head = s3.headObject(b -> b.bucket(bucket).key(key));
                return OptionalLong.of(head.contentLength() == null ? 0L : head.contentLength());
            } catch (NoSuchKeyException e) {
                return OptionalLong.empty();
            } catch (S3Exception e) {
                if (e.statusCode() == 404 || e.statusCode() == 403) {
                    return OptionalLong.empty();
                }
                throw e;
            }
        };
    }
}
