package dev.nixek.ci.testing.aws.s3;

import dev.nixek.ci.testing.aws.AwsTestClients;
import dev.nixek.ci.testing.aws.QuietLogging;
import dev.nixek.ci.testing.aws.S3ObjectLookup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * s3proxy (a real S3 protocol server) in-process on 127.0.0.1 and a random port, with static credentials
 * (SigV2/SigV4 checked), a filesystem blob store in a directory (a fresh temp dir by default, deleted on close)
 * or a transient in-memory one. s3proxy 4.x brings its own blob stores (no jclouds on the classpath).
 *
 * <p>Starting it raises noisy third-party loggers (s3proxy, Jetty, cloud SDKs) to WARN unless the logging
 * configuration sets them (see {@link QuietLogging}).
 */
public final class S3ProxyServer implements AutoCloseable {

    public static final String DEFAULT_ACCESS_KEY = "s3proxy-access-key";
    public static final String DEFAULT_SECRET_KEY = "s3proxy-secret-key";

    private final S3Proxy proxy;
    private final BlobStore blobStore;
    private final Path storeDirectory;
    private final boolean deleteStoreOnClose;
    private final String accessKey;
    private final String secretKey;
    private final URI endpoint;
    private volatile S3Client client;

    private S3ProxyServer(Builder b) throws Exception {
        QuietLogging.quietThirdPartyLoggers();
        this.accessKey = b.accessKey;
        this.secretKey = b.secretKey;
        Properties props = new Properties();
        props.setProperty("jclouds.identity", accessKey);
        props.setProperty("jclouds.credential", secretKey);
        if (b.transientStore) {
            this.storeDirectory = null;
            this.deleteStoreOnClose = false;
            this.blobStore = BlobStores.create("transient", props);
        } else {
            this.deleteStoreOnClose = b.directory == null;
            this.storeDirectory = b.directory != null
                    ? Files.createDirectories(b.directory) : Files.createTempDirectory("nixek-s3proxy-");
            props.setProperty("jclouds.filesystem.basedir", storeDirectory.toAbsolutePath().toString());
            this.blobStore = BlobStores.create("filesystem", props);
        }
        this.proxy = S3Proxy.builder()
                .blobStore(blobStore)
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .endpoint(URI.create("http://127.0.0.1:0"))
                .ignoreUnknownHeaders(true)
                .stopTimeout(0)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                proxy.stop();
                throw new IllegalStateException("s3proxy did not start: state " + proxy.getState());
            }
            Thread.sleep(10);
        }
        this.endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A filesystem-backed s3proxy in a fresh temp directory (deleted on close). */
    public static S3ProxyServer start() {
        return builder().start();
    }

    /** {@code http://127.0.0.1:<port>}. */
    public URI endpoint() {
        return endpoint;
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    /** A shared path-style SDK v2 client for this server (closed with the server). */
    public S3Client s3Client() {
        S3Client c = client;
        if (c == null) {
            synchronized (this) {
                if (client == null) {
                    client = newS3Client(b -> { });
                }
                c = client;
            }
        }
        return c;
    }

    /** A new path-style SDK v2 client (the caller closes it); {@code customizer} may change anything. */
    public S3Client newS3Client(Consumer<S3ClientBuilder> customizer) {
        return AwsTestClients.s3(endpoint, accessKey, secretKey, customizer);
    }

    /** Creates a bucket (no-op if it exists). */
    public S3ProxyServer createBucket(String bucket) {
        Objects.requireNonNull(bucket, "bucket");
        if (!blobStore.containerExists(bucket)) {
            s3Client().createBucket(r -> r.bucket(bucket));
        }
        return this;
    }

    /** The directory of the filesystem blob store (buckets are its subdirectories); empty for a transient store. */
    public Optional<Path> storeDirectory() {
        return Optional.ofNullable(storeDirectory);
    }

    /** An {@link S3ObjectLookup} that HEADs objects on this server (for {@code FakeEc2}'s ImportSnapshot). */
    public S3ObjectLookup objectLookup() {
        return S3ObjectLookup.using(s3Client());
    }

    @Override
    public void close() {
        S3Client c = client;
        if (c != null) {
            c.close();
        }
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("s3proxy did not stop", e);
        } finally {
            try {
                blobStore.close();
            } catch (RuntimeException ignored) {
                // best effort
            }
            if (deleteStoreOnClose && storeDirectory != null) {
                deleteTree(storeDirectory);
            }
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }

    /** Settings of an {@link S3ProxyServer}. */
    public static final class Builder {
        private String accessKey = DEFAULT_ACCESS_KEY;
        private String secretKey = DEFAULT_SECRET_KEY;
        private Path directory;
        private boolean transientStore;

        private Builder() {
        }

        public Builder credentials(String accessKey, String secretKey) {
            this.accessKey = Objects.requireNonNull(accessKey);
            this.secretKey = Objects.requireNonNull(secretKey);
            return this;
        }

        /** Filesystem store rooted in {@code directory} (kept on close). Default: a temp dir deleted on close. */
        public Builder filesystem(Path directory) {
            this.directory = Objects.requireNonNull(directory);
            this.transientStore = false;
            return this;
        }

        /** In-memory store (nothing on disk). */
        public Builder transientStore() {
            this.transientStore = true;
            this.directory = null;
            return this;
        }

        public S3ProxyServer start() {
            try {
                return new S3ProxyServer(this);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("cannot start s3proxy", e);
            }
        }
    }
}
