package dev.nixek.ci.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.common.config.ConfigOption;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorConfigTest {
  @Test
  void everyOptionHasADefaultThatParses() {
    OperatorConfig c = OperatorConfig.fromEnv(Map.of());
    assertThat(c.provider()).isEqualTo(OperatorConfig.Provider.LOCAL);
    assertThat(c.useSsa()).isTrue();
    assertThat(c.pollInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.watchNamespaces()).isEmpty();
    assertThat(OperatorConfig.OPTIONS).allSatisfy(o -> {
      assertThat(o.key()).startsWith("NIXEK_");
      assertThat(o.description()).isNotBlank();
    });
  }

  @Test
  void valuesAreRead() {
    OperatorConfig c = OperatorConfig.fromEnv(Map.of("NIXEK_PROVIDER", "EC2", "NIXEK_WATCH_NAMESPACES", "a, b",
        "NIXEK_REPORT_URL", "https://ci.example.com/report", "NIXEK_USE_SSA", "false", "NIXEK_CLUSTER_ID", "prod"));
    assertThat(c.provider()).isEqualTo(OperatorConfig.Provider.EC2);
    assertThat(c.watchNamespaces()).containsExactly("a", "b");
    assertThat(c.reportUrl().getHost()).isEqualTo("ci.example.com");
    assertThat(c.useSsa()).isFalse();
  }

  @Test
  void aBadValueNamesTheOption() {
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_POLL_SECONDS", "soon")))
        .hasMessageStartingWith("NIXEK_POLL_SECONDS='soon': expected a number of seconds");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_PROVIDER", "gcp")))
        .hasMessageContaining("NIXEK_PROVIDER").hasMessageContaining("[local, ec2]");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_REPORT_URL", "ftp://x")))
        .hasMessageContaining("NIXEK_REPORT_URL").hasMessageContaining("http(s) URL");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_CLUSTER_ID", "Prod_1")))
        .hasMessageContaining("NIXEK_CLUSTER_ID").hasMessageContaining("DNS label");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_RECONCILE_THREADS", "0")))
        .hasMessageContaining("NIXEK_RECONCILE_THREADS").hasMessageContaining("from 1 to 200");
  }

  @Test
  void ec2NeedsAnExplicitClusterIdAndAnHttpsReportUrlUnlessHttpIsAllowedByName() {
    Map<String, String> ec2 = Map.of("NIXEK_PROVIDER", "ec2", "NIXEK_REPORT_URL", "https://ci.example.com",
        "NIXEK_CLUSTER_ID", "prod-eu");
    assertThat(OperatorConfig.fromEnv(ec2).clusterId()).isEqualTo("prod-eu");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(without(ec2, "NIXEK_CLUSTER_ID")))
        .hasMessageStartingWith("NIXEK_CLUSTER_ID is required with NIXEK_PROVIDER=ec2");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(with(ec2, "NIXEK_CLUSTER_ID", " ")))
        .hasMessageStartingWith("NIXEK_CLUSTER_ID is required");
    Map<String, String> http = with(ec2, "NIXEK_REPORT_URL", "http://ci.example.com:8080");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(http))
        .hasMessageStartingWith("NIXEK_REPORT_URL=http://ci.example.com:8080: an http URL sends the jobs' bearer "
            + "tokens in clear").hasMessageContaining("NIXEK_ALLOW_INSECURE_REPORT_URL=true");
    assertThat(OperatorConfig.fromEnv(with(http, "NIXEK_ALLOW_INSECURE_REPORT_URL", "true")).reportUrl())
        .hasToString("http://ci.example.com:8080");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(with(http, "NIXEK_ALLOW_INSECURE_REPORT_URL", "yes")))
        .hasMessageContaining("NIXEK_ALLOW_INSECURE_REPORT_URL");
    // the local provider (the demo, tests): http on the machine itself, and a fixed id
    OperatorConfig local = OperatorConfig.fromEnv(Map.of("NIXEK_REPORT_URL", "http://127.0.0.1:8080"));
    assertThat(local.clusterId()).isEqualTo("default");
  }

  @Test
  void jobLimitsDefaultToTheDefaultInstanceTypeAndADayAndMustContainTheDefaultTimeout() {
    JobLimits limits = OperatorConfig.fromEnv(Map.of()).limits();
    assertThat(limits.allowedInstanceTypes()).isEmpty();
    assertThat(limits.allows("m7i.large")).isTrue();
    assertThat(limits.allows("m7i.xlarge")).isFalse();
    assertThat(limits.maxJobTimeout()).isEqualTo(Duration.ofDays(1));
    JobLimits set = OperatorConfig.fromEnv(Map.of("NIXEK_EC2_ALLOWED_INSTANCE_TYPES", "m7i.*, c7i.2xlarge",
        "NIXEK_MAX_JOB_TIMEOUT_SECONDS", "7200")).limits();
    assertThat(set.allows("m7i.4xlarge")).isTrue();
    assertThat(set.allows("c7i.2xlarge")).isTrue();
    assertThat(set.allows("c7i.4xlarge")).isFalse();
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_EC2_ALLOWED_INSTANCE_TYPES", "c7i.large, gpu")))
        .hasMessageContaining("NIXEK_EC2_ALLOWED_INSTANCE_TYPES").hasMessageContaining("'gpu' is not an instance type");
    // the default instance type is always allowed: jobs that name none run on it
    JobLimits other = OperatorConfig.fromEnv(Map.of("NIXEK_EC2_ALLOWED_INSTANCE_TYPES", "c7i.large",
        "NIXEK_EC2_INSTANCE_TYPE", "t3.small")).limits();
    assertThat(other.allows("t3.small")).isTrue();
    assertThat(other.allows("m7i.large")).isFalse();
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_JOB_TIMEOUT_SECONDS", "7200",
        "NIXEK_MAX_JOB_TIMEOUT_SECONDS", "3600")))
        .hasMessage("NIXEK_JOB_TIMEOUT_SECONDS=7200 is more than NIXEK_MAX_JOB_TIMEOUT_SECONDS=3600");
  }

  private static Map<String, String> with(Map<String, String> env, String key, String value) {
    Map<String, String> copy = new java.util.HashMap<>(env);
    copy.put(key, value);
    return copy;
  }

  private static Map<String, String> without(Map<String, String> env, String key) {
    Map<String, String> copy = new java.util.HashMap<>(env);
    copy.remove(key);
    return copy;
  }

  @Test
  void theEvaluationRunnerIsLocalOnlyWithTheLocalProviderUnlessConfigured() {
    EvaluationOptions auto = OperatorConfig.fromEnv(Map.of()).evaluation();
    assertThat(auto.runnerFor("local", false)).isEqualTo(EvaluationOptions.Runner.LOCAL);
    assertThat(auto.runnerFor("local", true)).as("a local stand-in that boots images").isEqualTo(
        EvaluationOptions.Runner.POD);
    assertThat(auto.runnerFor("ec2", true)).isEqualTo(EvaluationOptions.Runner.POD);
    assertThat(OperatorConfig.fromEnv(Map.of("NIXEK_EVAL_RUNNER", "pod")).evaluation().runnerFor("local", false))
        .isEqualTo(EvaluationOptions.Runner.POD);
    assertThat(OperatorConfig.fromEnv(Map.of("NIXEK_EVAL_RUNNER", "local")).evaluation().runnerFor("ec2", true))
        .isEqualTo(EvaluationOptions.Runner.LOCAL);
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_EVAL_RUNNER", "kubelet")))
        .hasMessageStartingWith("NIXEK_EVAL_RUNNER='kubelet': expected 'pod' or 'local'");
  }

  @Test
  void ec2AndLifecycleOptionsHaveDefaultsAndAreRead() {
    OperatorConfig d = OperatorConfig.fromEnv(Map.of());
    assertThat(d.ec2().spot()).isFalse();
    assertThat(d.ec2().subnets()).isEmpty();
    assertThat(d.aws().ec2Endpoint()).isEmpty();
    assertThat(d.ec2().instanceType()).isEqualTo("m7i.large");
    assertThat(d.ec2().notFoundGrace()).isEqualTo(Duration.ofSeconds(120));
    assertThat(d.lifecycle().bootTimeout()).isEqualTo(Duration.ofSeconds(900));
    assertThat(d.lifecycle().maxLaunchAttempts()).isEqualTo(3);
    assertThat(d.leaderElection().enabled()).isFalse();

    OperatorConfig c = OperatorConfig.fromEnv(Map.of("NIXEK_EC2_SUBNETS", "subnet-0a1b, subnet-0c2d",
        "NIXEK_EC2_SECURITY_GROUPS", "sg-0123", "NIXEK_AWS_REGION", "eu-central-1", "NIXEK_EC2_SPOT", "true",
        "NIXEK_EC2_ENDPOINT", "http://127.0.0.1:4566", "NIXEK_EC2_INSTANCE_PROFILE",
        "arn:aws:iam::123456789012:instance-profile/ci", "NIXEK_BOOT_TIMEOUT_SECONDS", "60"));
    assertThat(c.ec2().subnets()).containsExactly("subnet-0a1b", "subnet-0c2d");
    assertThat(c.ec2().securityGroups()).containsExactly("sg-0123");
    assertThat(c.aws().region()).isEqualTo("eu-central-1");
    assertThat(c.ec2().spot()).isTrue();
    assertThat(c.aws().ec2Endpoint()).hasValueSatisfying(u -> assertThat(u.getPort()).isEqualTo(4566));
    assertThat(c.ec2().instanceProfile()).endsWith("instance-profile/ci");
    assertThat(c.lifecycle().bootTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(OperatorConfig.OPTIONS).extracting(ConfigOption::key).doesNotHaveDuplicates()
        .contains("NIXEK_EC2_SUBNETS", "NIXEK_BOOT_TIMEOUT_SECONDS", "NIXEK_COLLECTOR_GRACE_SECONDS");
  }

  @Test
  void badEc2ValuesNameTheOption() {
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_EC2_SUBNETS", "subnet-0a1b,sg-0123")))
        .hasMessageContaining("NIXEK_EC2_SUBNETS").hasMessageContaining("subnet-");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_AWS_REGION", "Frankfurt")))
        .hasMessageContaining("NIXEK_AWS_REGION").hasMessageContaining("us-east-1");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_EC2_INSTANCE_TYPE", "big")))
        .hasMessageContaining("NIXEK_EC2_INSTANCE_TYPE");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_MAX_LAUNCH_ATTEMPTS", "0")))
        .hasMessageContaining("NIXEK_MAX_LAUNCH_ATTEMPTS");
  }
}
