package dev.nixek.ci.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobLogs;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.cli.LogClient;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The demo's step output through a logs endpoint (a stand-in answering as the report API does), and its reviews. */
class StepLogsTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
  private final CountDownLatch stepEnds = new CountDownLatch(1);
  private final List<String> authorizations = new ArrayList<>();
  private HttpServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  private String serve(int status, String body) throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/logs/", exchange -> {
      synchronized (authorizations) {
        authorizations.add(exchange.getRequestHeaders().getFirst("Authorization"));
      }
      exchange.sendResponseHeaders(status, 0);
      try (OutputStream o = exchange.getResponseBody()) {
        if (status != 200) {
          o.write(body.getBytes(StandardCharsets.UTF_8));
          return;
        }
        o.write("hello, w".getBytes(StandardCharsets.UTF_8));
        o.flush();
        o.write(body.getBytes(StandardCharsets.UTF_8));
        o.flush();
        {
          // a follower's answer ends when the step does
          stepEnds.await(10, TimeUnit.SECONDS);
          o.write("bye\n".getBytes(StandardCharsets.UTF_8));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/logs/default/hello";
  }

  private static NixekJob job(String url, NixekStepStatus.State state) {
    NixekJob job = new NixekJob();
    job.setStatus(new NixekJobStatus());
    job.getStatus().logs = new NixekJobLogs(url, "kubectl nixek logs -f -n default hello");
    NixekStepStatus s = new NixekStepStatus();
    s.name = "greet";
    s.state = state;
    s.exitCode = state == NixekStepStatus.State.Succeeded ? 0 : null;
    job.getStatus().steps = List.of(s);
    return job;
  }

  @Test
  void theOutputIsPrintedLineByLineBetweenTheStartAndTheResultOfItsStep() throws Exception {
    String url = serve(200, "orld\n\u00e9t\u00e9\n\n");
    JobFollower follower = new JobFollower(out, new StepLogs(out, new LogClient(HttpClient.newHttpClient(),
        () -> "demo-token")));
    follower.update(job(url, NixekStepStatus.State.Running));
    Thread.sleep(300);
    stepEnds.countDown();
    follower.update(job(url, NixekStepStatus.State.Succeeded));
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines().toList()).containsExactly(
        "[greet] started", "[greet] | hello, world", "[greet] | \u00e9t\u00e9", "[greet] | bye",
        "[greet] succeeded (exit code 0)");
    assertThat(authorizations).containsOnly("Bearer demo-token");
  }

  @Test
  void withoutALogStoreTheStatusTailsAreShownAndSaidSo() throws Exception {
    String url = serve(503, "{\"error\":\"logs_unavailable\",\"message\":\"this report API has no log store\"}");
    NixekJob running = job(url, NixekStepStatus.State.Running);
    JobFollower follower = new JobFollower(out, new StepLogs(out, new LogClient(HttpClient.newHttpClient(),
        () -> "t")));
    follower.update(running);
    NixekJob done = job(url, NixekStepStatus.State.Succeeded);
    done.getStatus().steps.get(0).outputTail = "from the tail\n";
    done.getStatus().steps.get(0).outputBytes = 14L;
    follower.update(done);
    assertThat(bytes.toString(StandardCharsets.UTF_8)).contains(
        "==> the report API has no log store; showing the status tails instead\n"
        + "[greet] | from the tail\n[greet] succeeded (exit code 0)");
  }

  @Test
  void theDemoCredentialIsTheOnlyUserAndMayOnlyReadLogs() {
    DemoAuth auth = new DemoAuth();
    TokenReview ok = auth.tokenReview(new TokenReviewBuilder().withNewSpec().withToken(auth.credential()).endSpec()
        .build());
    assertThat(ok.getStatus().getAuthenticated()).isTrue();
    assertThat(ok.getStatus().getUser().getUsername()).isEqualTo(DemoAuth.USER);
    assertThat(ok.getSpec().getToken()).as("not echoed").isNull();
    assertThat(auth.tokenReview(new TokenReviewBuilder().withNewSpec().withToken("demo").endSpec().build())
        .getStatus().getAuthenticated()).isFalse();

    assertThat(DemoAuth.accessReview(review(DemoAuth.USER, "get", "log")).getStatus().getAllowed()).isTrue();
    assertThat(DemoAuth.accessReview(review("someone", "get", "log")).getStatus().getAllowed()).isFalse();
    assertThat(DemoAuth.accessReview(review(DemoAuth.USER, "delete", "log")).getStatus().getAllowed()).isFalse();
    assertThat(DemoAuth.accessReview(review(DemoAuth.USER, "get", "status")).getStatus().getAllowed()).isFalse();
  }

  private static SubjectAccessReview review(String user, String verb, String subresource) {
    return new SubjectAccessReviewBuilder().withNewSpec().withUser(user).withNewResourceAttributes()
        .withGroup("ci.nixek.dev").withResource("nixekjobs").withSubresource(subresource).withVerb(verb)
        .withNamespace("default").withName("hello").endResourceAttributes().endSpec().build();
  }
}
