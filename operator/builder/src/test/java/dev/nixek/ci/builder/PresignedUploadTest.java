package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PresignedUploadTest {
  @TempDir
  Path dir;

  @Test
  void thePartSizeGrowsUntilTheImageFitsTheGrantedPartsAndStopsAtFiveGib() throws Exception {
    assertThat(PresignedUpload.partSize(10 * PartPlan.MIB, 16 * (int) PartPlan.MIB, 4)).isEqualTo(16 * PartPlan.MIB);
    assertThat(PresignedUpload.partSize(100 * PartPlan.MIB, 16 * (int) PartPlan.MIB, 4)).isEqualTo(25 * PartPlan.MIB);
    assertThat(PresignedUpload.partSize(101 * PartPlan.MIB, 16 * (int) PartPlan.MIB, 4)).isEqualTo(26 * PartPlan.MIB);
    assertThatThrownBy(() -> PresignedUpload.partSize(2L * PresignedUpload.MAX_PART + 1, 16 * (int) PartPlan.MIB, 2))
        .hasMessageContaining("does not fit in the 2 parts the operator granted");
  }

  @Test
  void eachPartGoesToItsOwnUrlAndTheResultIsTheFilesSizeAndSha256() throws Exception {
    byte[] image = new byte[12 * (int) PartPlan.MIB + 123];
    new Random(1).nextBytes(image);
    Path file = Files.write(dir.resolve("disk.raw"), image);
    Map<String, byte[]> received = new ConcurrentHashMap<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", ex -> {
      received.put(ex.getRequestURI().toString(), ex.getRequestBody().readAllBytes());
      ex.getResponseHeaders().add("ETag", "\"e\"");
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    server.start();
    try {
      List<URI> urls = new ArrayList<>();
      for (int i = 1; i <= 8; i++) {
        urls.add(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/b/k?partNumber=" + i
            + "&X-Amz-Signature=s"));
      }
      var grant = new PresignedUpload.Grant("b", "k", urls);
      UploadResult r = new PresignedUpload(5 * (int) PartPlan.MIB).upload(file, grant, "b", "k");
      assertThat(r.size()).isEqualTo(image.length);
      assertThat(r.partCount()).isEqualTo(3);
      assertThat(r.sha256()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(image)));
      assertThat(received).hasSize(3);
      ByteArrayOutputStream joined = new ByteArrayOutputStream();
      for (int i = 1; i <= 3; i++) {
        joined.write(received.get("/b/k?partNumber=" + i + "&X-Amz-Signature=s"));
      }
      assertThat(joined.toByteArray()).isEqualTo(image);

      // a grant for another object is not used
      assertThatThrownBy(() -> new PresignedUpload(5 * (int) PartPlan.MIB).upload(file, grant, "b", "other"))
          .hasMessageContaining("the upload grant is for s3://b/k, not s3://b/other");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aRefusedPartFailsTheUploadWithoutPrintingTheUrlsSignature() throws Exception {
    Path file = Files.write(dir.resolve("disk.raw"), new byte[1024]);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", ex -> {
      ex.getRequestBody().readAllBytes();
      byte[] body = "<Error><Code>AccessDenied</Code></Error>".getBytes();
      ex.sendResponseHeaders(403, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    server.start();
    try {
      var grant = new PresignedUpload.Grant("b", "k", List.of(URI.create("http://127.0.0.1:"
          + server.getAddress().getPort() + "/b/k?X-Amz-Signature=secret-signature")));
      assertThatThrownBy(() -> new PresignedUpload(5 * (int) PartPlan.MIB).upload(file, grant, "b", "k"))
          .hasMessageContaining("HTTP 403 (AccessDenied)").hasMessageNotContaining("secret-signature");
    } finally {
      server.stop(0);
    }
  }
}
