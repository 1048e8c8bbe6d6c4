package dev.nixek.ci.e2e;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import dev.nixek.ci.api.v1alpha1.NixekSecretUse;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.JobSecrets;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.testing.kube.RequiredTools;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Job secrets end to end (docs/secrets.md) on a real kube-apiserver + etcd, the report API as its own process, the
 * local provider running the real agent process: a labelled Secret reaches a step as env and as a file, is masked in
 * the output (also when written across the agent's reads and across a report chunk), and neither it nor its base64
 * is anywhere else — user-data, the job object, Events, the three components' logs, the log store; a job naming a
 * Secret without the opt-in label ends SecretNotAllowed and launches nothing; another job's token gets 403, the
 * job's own token 401 once the job has ended.
 */
class SecretsE2E extends RealApiServerStackTier {
  private static final String VALUE = "p4ss-" + java.util.UUID.randomUUID();
  private static final String FILE_VALUE = "file-secret-" + java.util.UUID.randomUUID() + "\n";
  private final HttpClient http = HttpClient.newHttpClient();
  @RegisterExtension
  final OperatorLog operatorLog = new OperatorLog();

  /** Jobs written in Nix are evaluated by the builder jar with real nix, in a local process (the local default). */
  @Override
  Map<String, String> stackEnv() {
    return Map.of(
        "NIXEK_IMAGE_NIX_DIR", NixJobsE2E.NIX.toString(),
        "NIXEK_IMAGE_AGENT_JAR", NixJobsE2E.AGENT_JAR.toString(),
        "NIXEK_IMAGE_NIXPKGS", NixJobsE2E.STUB.toString(),
        "NIXEK_EVAL_COMMAND", String.join(" ", Stack.javaJar("operator/builder/target/nixek-builder.jar")));
  }

  private void secret(String name, boolean optIn, Map<String, String> data) {
    var b = new SecretBuilder().withNewMetadata().withName(name).withNamespace(ns).endMetadata();
    if (optIn) {
      b.editMetadata().addToLabels("ci.nixek.dev/job-secret", "true").endMetadata();
    }
    data.forEach(b::addToStringData);
    client.secrets().inNamespace(ns).resource(b.build()).create();
  }

  private static NixekSecretUse use(String name, String secret, String key, String as) {
    return new NixekSecretUse(name, new NixekSecretKeyRef(secret, key), as);
  }

  @Test
  void aSecretReachesItsStepMaskedAndIsNowhereElse() throws Exception {
    secret("deploy", true, Map.of("token", VALUE, "cert", FILE_VALUE));
    Path go = work.resolve("go");
    NixekJobStep waits = run("wait", "while [ ! -f '" + go + "' ]; do sleep 0.1; done");
    NixekJobStep uses = run("use", String.join("; ",
        "echo \"env=$DEPLOY_TOKEN\"",
        "printf '%s' \"$DEPLOY_TOKEN\" | base64",
        // across two reads of the agent's output pump
        "printf 'split=%s' \"$(printf '%s' \"$DEPLOY_TOKEN\" | head -c 12)\"", "sleep 0.5",
        "printf '%s\\n' \"$(printf '%s' \"$DEPLOY_TOKEN\" | tail -c +13)\"",
        // as the step wrote it, the value straddles byte 16384 of the output (a 16 KiB report chunk, a 4 KiB pipe page)
        "head -c 16357 /dev/zero | tr '\\0' 'x'", "printf '%s\\n' \"$DEPLOY_TOKEN\"",
        "cat \"$NIXEK_SECRETS_DIR/CERT\"", "stat -c 'mode=%a' \"$NIXEK_SECRETS_DIR/CERT\""));
    uses.secrets = List.of(use("CERT", "deploy", "cert", "file"));
    NixekJob a = job(ns, "with-secrets", waits, uses);
    a.getSpec().secrets = List.of(use("DEPLOY_TOKEN", "deploy", "token", "env"));
    client.resources(NixekJob.class).inNamespace(ns).resource(a).create();
    NixekJob b = job(ns, "other", run("wait", "while [ ! -f '" + go + "' ]; do sleep 0.1; done"));
    client.resources(NixekJob.class).inNamespace(ns).resource(b).create();

    // while A's first step waits: its user-data (the local machine's config file) holds names only, and its token
    await().atMost(Duration.ofSeconds(90)).until(() -> running(get("with-secrets")) && running(get("other")));
    Path userData = stack.work().resolve("machines").resolve(get("with-secrets").getStatus().instanceId)
        .resolve("config.json");
    String userDataText = Files.readString(userData);
    assertNowhere("user-data", userDataText);
    assertThat(userDataText).contains("DEPLOY_TOKEN").contains("deploy/token");
    AgentConfig cfgA = Json.mapper().readValue(userDataText, AgentConfig.class);
    AgentConfig cfgB = Json.mapper().readValue(Files.readString(stack.work().resolve("machines")
        .resolve(get("other").getStatus().instanceId).resolve("config.json")), AgentConfig.class);

    HttpResponse<String> own = fetch(cfgA.token(), "with-secrets");
    assertThat(own.statusCode()).as(own.body()).isEqualTo(200);
    assertThat(Json.mapper().readValue(own.body(), JobSecrets.class).decoded()).containsOnlyKeys("deploy/token",
        "deploy/cert");
    assertThat(fetch(cfgA.token(), "other").statusCode()).as("A's token on B's path").isEqualTo(403);
    HttpResponse<String> bOwn = fetch(cfgB.token(), "other");
    assertThat(bOwn.statusCode()).isEqualTo(200);
    assertThat(Json.mapper().readValue(bOwn.body(), JobSecrets.class).values()).as("B uses none").isEmpty();

    Files.writeString(go, "go");
    NixekJob done = awaitTerminal("with-secrets");
    assertThat(succeeded(done).getReason()).as(succeeded(done).getMessage()).isEqualTo("Succeeded");
    assertThat(done.getStatus().steps.get(1).outputTail).endsWith("x***\n***\nmode=400\n");
    assertThat(fetch(cfgA.token(), "with-secrets").statusCode()).as("after the job ended").isEqualTo(401);
    awaitTerminal("other");

    String log = assertNowhereAfter("with-secrets", done, 1);
    assertThat(log).as("the stored log").startsWith("env=***\n***\nsplit=***\nxxxxx")
        .endsWith("x***\n***\nmode=400\n").hasSize(22 + 16357 + 4 + 4 + 9);
  }

  /**
   * The same for a job written in Nix ({@code secrets = { NAME = "secret/key"; }}, docs/secrets.md), evaluated by the
   * real nix in a local evaluation process (the builder jar's {@code evaluate}, as the local provider does by
   * default): the evaluation carries names and refs only, the operator seals the values at launch from the evaluated
   * steps, and the real agent hands them to the step as env and file.
   */
  @Test
  void aNixJobsSecretsReachItsStepMaskedAndAreNowhereElse() throws Exception {
    RequiredTools.nix();
    secret("deploy", true, Map.of("token", VALUE, "cert", FILE_VALUE));
    Path go = work.resolve("go");
    NixekJob a = new NixekJob();
    a.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withNamespace(ns).withName("nix-secrets")
        .build());
    a.setSpec(new dev.nixek.ci.api.v1alpha1.NixekJobSpec());
    a.getSpec().nix = """
        { secrets = { DEPLOY_TOKEN = "deploy/token"; };
          steps = [
            { name = "wait"; run = "while [ ! -f '%s' ]; do sleep 0.1; done"; }
            { name = "use";
              run = ''echo "env=$DEPLOY_TOKEN"; printf '%%s' "$DEPLOY_TOKEN" | base64; cat "$NIXEK_SECRETS_DIR/CERT"; stat -c 'mode=%%a' "$NIXEK_SECRETS_DIR/CERT"'';
              secrets = { CERT = { ref = "deploy/cert"; as = "file"; }; }; }
          ];
        }
        """.formatted(go);
    client.resources(NixekJob.class).inNamespace(ns).resource(a).create();

    await().atMost(Duration.ofSeconds(120)).until(() -> running(get("nix-secrets")));
    NixekJob evaluated = get("nix-secrets");
    assertThat(evaluated.getStatus().evaluation.steps.get(1).secrets).as("names and refs from the evaluation")
        .extracting(s -> s.name + "=" + s.secretRef.name + "/" + s.secretRef.key + " as " + s.asOrDefault())
        .containsExactlyInAnyOrder("DEPLOY_TOKEN=deploy/token as env", "CERT=deploy/cert as file");
    assertThat(evaluated.getStatus().sealedSecrets).as("sealed at launch").isNotNull();
    String userDataText = Files.readString(stack.work().resolve("machines").resolve(evaluated.getStatus().instanceId)
        .resolve("config.json"));
    assertNowhere("user-data", userDataText);
    assertThat(userDataText).contains("DEPLOY_TOKEN").contains("deploy/token").contains("deploy/cert");

    Files.writeString(go, "go");
    NixekJob done = awaitTerminal("nix-secrets");
    assertThat(succeeded(done).getReason()).as(succeeded(done).getMessage()).isEqualTo("Succeeded");
    assertThat(done.getStatus().steps.get(1).outputTail).isEqualTo("env=***\n***\n***\nmode=400\n");
    String log = assertNowhereAfter("nix-secrets", done, 1);
    assertThat(log).as("the stored log").isEqualTo("env=***\n***\n***\nmode=400\n");
  }

  /**
   * After {@code name} ended: neither value nor its base64 in the job object, Events, the three components' logs or
   * the log store; the stored log of step {@code step}, for the caller to check its masked form.
   */
  private String assertNowhereAfter(String name, NixekJob done, int step) throws Exception {
    assertNowhere("the job object", Json.mapper().writeValueAsString(get(name)));
    assertThat(get(name).getStatus().sealedSecrets).as("dropped at the end").isNull();
    assertNowhere("Events", Json.mapper().writeValueAsString(client.v1().events().inNamespace(ns).list()));
    assertNowhere("the report API's log", stack.reportApiLogs());
    assertNowhere("the operator's log", operatorLog.text());
    StringBuilder agentLogs = new StringBuilder();
    StringBuilder stored = new StringBuilder();
    try (Stream<Path> files = Files.walk(stack.work())) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        if (f.getFileName().toString().equals("agent.log")) {
          agentLogs.append(text);
        } else if (f.startsWith(stack.work().resolve("logs"))) {
          stored.append(text);
        }
      }
    }
    assertThat(agentLogs).as("agent logs were read").isNotEmpty();
    // the step's log as the log store serves it (its chunks in order)
    String log;
    try (var store = new dev.nixek.ci.common.logs.LocalLogStore(stack.work().resolve("logs"))) {
      var out = new java.io.ByteArrayOutputStream();
      store.read(new dev.nixek.ci.common.logs.StepLog(ns, name, done.getMetadata().getUid(), step), 0,
          1 << 20, out);
      log = out.toString(StandardCharsets.UTF_8);
    }
    assertNowhere("the stored log", log);
    assertNowhere("the agents' logs", agentLogs.toString());
    assertNowhere("the log store", stored.toString());
    return log;
  }

  @Test
  void aJobNamingASecretWithoutTheOptInEndsSecretNotAllowedAndLaunchesNothing() throws Exception {
    secret("private", false, Map.of("token", VALUE));
    NixekJob c = job(ns, "not-allowed", run("never", "echo never"));
    c.getSpec().secrets = List.of(use("T", "private", "token", "env"));
    client.resources(NixekJob.class).inNamespace(ns).resource(c).create();
    NixekJob done = awaitTerminal("not-allowed");
    Condition cond = succeeded(done);
    assertThat(cond.getReason()).isEqualTo("SecretNotAllowed");
    assertThat(cond.getMessage()).isEqualTo("spec.secrets[0].secretRef: Secret private (key token) is not labelled "
        + "ci.nixek.dev/job-secret: \"true\" (its namespace's owner has not let jobs use it)");
    assertThat(done.getStatus().instanceId).isNull();
    assertThat(done.getStatus().launchToken).isNull();
    try (Stream<Path> machines = Files.exists(stack.work().resolve("machines"))
        ? Files.list(stack.work().resolve("machines")) : Stream.empty()) {
      assertThat(machines.toList()).as("machines launched").isEmpty();
    }
    List<String> warnings = new ArrayList<>();
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      warnings.clear();
      client.v1().events().inNamespace(ns).list().getItems().stream()
          .filter(e -> "not-allowed".equals(e.getInvolvedObject().getName()) && "Warning".equals(e.getType()))
          .forEach(e -> warnings.add(e.getReason() + ": " + e.getMessage()));
      return !warnings.isEmpty();
    });
    assertThat(warnings).containsExactly("SecretNotAllowed: " + cond.getMessage());
    assertNowhere("the job object", Json.mapper().writeValueAsString(done));
  }

  private HttpResponse<String> fetch(String token, String job) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(stack.reportUrl() + ReportPaths.secrets(ns, job)))
        .header("Authorization", "Bearer " + token).GET().build();
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    // 503 while the report API's watch catches up with a record written a moment ago
    while (r.statusCode() == 503 && System.nanoTime() < until) {
      Thread.sleep(200);
      r = http.send(req, HttpResponse.BodyHandlers.ofString());
    }
    return r;
  }

  private static void assertNowhere(String where, String text) {
    for (String v : List.of(VALUE, FILE_VALUE.strip())) {
      byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
      assertThat(text).as(where).doesNotContain(v)
          .doesNotContain(Base64.getEncoder().withoutPadding().encodeToString(bytes))
          .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes))
          .doesNotContain(Base64.getEncoder().encodeToString((v + "\n").getBytes(StandardCharsets.UTF_8))
              .replace("=", ""));
    }
  }

  private static boolean running(NixekJob j) {
    return j != null && j.getStatus() != null && j.getStatus().steps != null && !j.getStatus().steps.isEmpty()
        && j.getStatus().steps.get(0).state == State.Running;
  }

  private NixekJob get(String name) {
    return client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
  }

  private NixekJob awaitTerminal(String name) {
    await().atMost(Duration.ofSeconds(90)).until(() -> get(name) != null && Conditions.isTerminal(get(name).getStatus()));
    return get(name);
  }

  private static Condition succeeded(NixekJob j) {
    return Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow();
  }
}
