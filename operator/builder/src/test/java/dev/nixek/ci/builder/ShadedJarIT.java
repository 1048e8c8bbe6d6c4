package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/** What the distribution ships: one runnable jar with the JDK HTTP transport and STS (IRSA), nothing more. */
class ShadedJarIT {
  @TempDir
  Path dir;

  @Test
  void jarHasTheMainClassStsAndOnlyTheUrlConnectionTransport() throws Exception {
    try (JarFile jar = new JarFile(BuilderProcess.jar().toFile())) {
      assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class")).isEqualTo(Main.class.getName());
      assertThat(jar.getEntry("software/amazon/awssdk/services/sts/StsClient.class")).isNotNull();
      assertThat(jar.getEntry("software/amazon/awssdk/http/urlconnection/UrlConnectionHttpClient.class")).isNotNull();
      assertThat(jar.getEntry("logback.xml")).isNotNull();
      assertThat(jar.stream().map(e -> e.getName()))
          .noneMatch(name -> name.startsWith("io/netty/") || name.startsWith("org/apache/http")
              || name.startsWith("org/apache/hc/") || name.startsWith("software/amazon/awssdk/http/apache")
              || name.startsWith("software/amazon/awssdk/http/nio/") || name.startsWith("org/gaul/")
              || name.startsWith("io/vertx/") || name.startsWith("io/fabric8/"));
      try (InputStream in = jar.getInputStream(jar.getEntry("META-INF/services/software.amazon.awssdk.http.SdkHttpService"))) {
        assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
            .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")))
            .containsExactly("software.amazon.awssdk.http.urlconnection.UrlConnectionSdkHttpService");
      }
    }
  }

  @Test
  void uploadsFromTheJarWithCredentialsFromTheEnvironment() throws Exception {
    Path file = Files.write(dir.resolve("disk.raw"), new byte[5 * 1024 * 1024 + 1]);
    try (LocalS3 s3proxy = LocalS3.inMemory(); S3Client s3 = s3proxy.client()) {
      s3proxy.createBucket("jar");
      List<String> args = new ArrayList<>(List.of("upload", "--file", file.toString(), "--bucket", "jar",
          "--key", "disk.raw", "--part-size-mib", "5", "--termination-log", dir.resolve("t").toString()));
      args.addAll(s3proxy.cliOptions());
      BuilderProcess.Result result = BuilderProcess.run(args,
          Map.of("AWS_ACCESS_KEY_ID", LocalS3.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", LocalS3.SECRET_KEY),
          dir.resolve("out.txt"));
      assertThat(result.exitCode()).as(result.output()).isZero();
      assertThat(result.output()).doesNotContain(LocalS3.SECRET_KEY);
      assertThat(BuilderProcess.jarInUse()).isTrue();
      try (InputStream in = s3.getObject(r -> r.bucket("jar").key("disk.raw"))) {
        assertThat(Digests.sha256(in)).isEqualTo(Digests.sha256(file));
      }
    }
  }

  @Test
  void helpRunsFromTheJar() throws Exception {
    BuilderProcess.Result result = BuilderProcess.run(List.of("--help"), Map.of(), dir.resolve("out.txt"));
    assertThat(result.exitCode()).isZero();
    assertThat(result.output()).startsWith("Usage: java -jar nixek-builder.jar build");
  }

  @Test
  void usageErrorFromTheJarExits64() throws Exception {
    BuilderProcess.Result result = BuilderProcess.run(
        List.of("build", "--bucket", "b", "--termination-log", dir.resolve("t").toString()), Map.of(),
        dir.resolve("out.txt"));
    assertThat(result.exitCode()).isEqualTo(ExitCode.USAGE);
    assertThat(dir.resolve("t")).content().contains("--expr-file is required");
  }
}
