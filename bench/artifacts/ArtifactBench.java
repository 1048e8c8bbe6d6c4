// Upload throughput of an artifact through the presigned path the agent takes (S3ArtifactStore.prepare, a PUT with
// java.net.http like the agent's, then commit: HEAD, read-back SHA-256, CopyObject, delete) against the AWS SDK's own
// PutObject of the same file to the same s3proxy. Run by run.sh as a single-file java program on operator/common's
// class path. Not a test: nothing asserts a time.
import dev.nixek.ci.common.logs.ArtifactOptions;
import dev.nixek.ci.common.logs.ArtifactRef;
import dev.nixek.ci.common.logs.ArtifactStore;
import dev.nixek.ci.common.logs.ArtifactStores;
import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.logs.LogStoreOptions;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

public class ArtifactBench {
  public static void main(String[] args) throws Exception {
    String endpoint = args[0];
    Path file = Path.of(args[1]);
    int rounds = Integer.parseInt(System.getenv().getOrDefault("ROUNDS", "3"));
    long size = Files.size(file);
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(file)) {
      byte[] b = new byte[1 << 20];
      for (int n; (n = in.read(b)) > 0; ) {
        md.update(b, 0, n);
      }
    }
    String sha = HexFormat.of().formatHex(md.digest());
    var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("bench", "bench-secret-key"));
    Map<String, String> env = Map.of("NIXEK_LOG_STORE", "s3", "NIXEK_LOG_S3_BUCKET", "bench",
        "NIXEK_LOG_S3_REGION", "us-east-1", "NIXEK_LOG_S3_ENDPOINT", endpoint);
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    try (ArtifactStore store = ArtifactStores.open(LogStoreOptions.fromEnv(env), ArtifactOptions.fromEnv(env), creds);
        S3Client s3 = S3Client.builder().httpClient(UrlConnectionHttpClient.create()).credentialsProvider(creds)
            .region(Region.US_EAST_1).endpointOverride(URI.create(endpoint)).forcePathStyle(true).build()) {
      for (int round = 0; round <= rounds; round++) {
        String label = round == 0 ? "warm-up" : "round " + round;
        // the SDK's own upload: PutObject from the file (it computes its default checksum while sending)
        long t0 = System.nanoTime();
        s3.putObject(b -> b.bucket("bench").key("sdk/" + UUID.randomUUID()), RequestBody.fromFile(file));
        double sdk = (System.nanoTime() - t0) / 1e9;
        // the presigned path: presign, PUT (the agent's client), commit (HEAD, read-back, copy, delete)
        ArtifactRef ref = new ArtifactRef(new JobLogs("bench", "job", UUID.randomUUID().toString()), 0, "a", "f.bin");
        long p0 = System.nanoTime();
        var target = store.prepare(ref, size, sha, Duration.ofMinutes(15));
        HttpRequest.Builder put = HttpRequest.newBuilder(URI.create(target.url()))
            .PUT(HttpRequest.BodyPublishers.ofFile(file));
        target.headers().forEach(put::header);
        int status = http.send(put.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status != 200) {
          throw new IllegalStateException("presigned PUT answered " + status);
        }
        double putS = (System.nanoTime() - p0) / 1e9;
        long c0 = System.nanoTime();
        store.commit(ref, size, sha);
        double commitS = (System.nanoTime() - c0) / 1e9;
        double mb = size / 1e6;
        System.out.printf("| %s | %.0f | %.2f | %.0f | %.2f | %.0f | %.2f | %.2f | %.0f | %.2f |%n", label, mb, sdk,
            mb / sdk, putS, mb / putS, sdk / putS, commitS, mb / (putS + commitS), sdk / (putS + commitS));
      }
    }
  }
}
