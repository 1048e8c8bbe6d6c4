package dev.nixek.ci.operator.testing;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.operator.aws.Ec2Tags;
import dev.nixek.ci.testing.aws.AwsTestClients;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import dev.nixek.ci.testing.aws.ec2.InstanceState;
import dev.nixek.ci.testing.aws.ec2.Views.InstanceView;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Operator settings and helpers for tests of the ec2 provider against a local EC2 endpoint. */
public final class Ec2TestEnv {
  public static final String CLUSTER_ID = "test-cluster";
  public static final List<String> SUBNETS = List.of("subnet-0a01", "subnet-0b02");
  public static final String SECURITY_GROUP = "sg-0c03";

  private Ec2TestEnv() {}

  /**
   * The SDK's default credentials chain (what the operator uses in production) reads these system properties first;
   * the endpoints under test ignore the signature.
   */
  public static void useFakeCredentials() {
    System.setProperty("aws.accessKeyId", AwsTestClients.DEFAULT_ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", AwsTestClients.DEFAULT_SECRET_KEY);
  }

  /** Settings for an operator using the ec2 provider at {@code endpoint}, with short test timings. */
  public static Map<String, String> operatorEnv(URI endpoint, String operatorNamespace) {
    useFakeCredentials();
    Map<String, String> env = new HashMap<>();
    env.put("NIXEK_PROVIDER", "ec2");
    env.put("NIXEK_USE_SSA", "false");
    env.put("NIXEK_OPERATOR_NAMESPACE", operatorNamespace);
    env.put("NIXEK_HEALTH_PORT", "0");
    env.put("NIXEK_POLL_SECONDS", "1");
    env.put("NIXEK_CLUSTER_ID", CLUSTER_ID);
    // the tests' report API listens on 127.0.0.1 without TLS
    env.put("NIXEK_ALLOW_INSECURE_REPORT_URL", "true");
    env.put("NIXEK_AWS_REGION", "us-east-1");
    env.put("NIXEK_EC2_ENDPOINT", endpoint.toString());
    env.put("NIXEK_EC2_SUBNETS", String.join(",", SUBNETS));
    env.put("NIXEK_EC2_SECURITY_GROUPS", SECURITY_GROUP);
    env.put("NIXEK_EC2_INSTANCE_TYPE", "t3.small");
    env.put("NIXEK_EC2_NOT_FOUND_GRACE_SECONDS", "20");
    env.put("NIXEK_COLLECTOR_INTERVAL_SECONDS", "3600");
    env.put("NIXEK_COLLECTOR_GRACE_SECONDS", "0");
    // the image reconciler needs a bucket to accept an image; tests register the AMI under the image's name
    // (TestImages.amiName), so it is found there and nothing is built
    env.put("NIXEK_IMAGE_BUCKET", "nixek-test-images");
    // the binary cache has its own tests (BinaryCacheFlowIT and the cache package): not these
    env.put("NIXEK_CACHE_ENABLED", "false");
    env.put("NIXEK_IMAGE_NIXPKGS", "github:NixOS/nixpkgs/0123456789abcdef0123456789abcdef01234567");
    return env;
  }

  /** The instances the fake launched for {@code job}. */
  public static List<InstanceView> instancesOf(FakeEc2 ec2, NixekJob job) {
    String uid = job.getMetadata().getUid();
    return ec2.instances().stream().filter(i -> uid.equals(i.tags().get(Ec2Tags.JOB_UID))).toList();
  }

  /** This cluster's instances that are neither shutting down nor terminated. */
  public static List<InstanceView> liveInstances(FakeEc2 ec2) {
    return ec2.instances().stream()
        .filter(i -> CLUSTER_ID.equals(i.tags().get(Ec2Tags.CLUSTER_ID)))
        .filter(i -> i.state() != InstanceState.SHUTTING_DOWN && i.state() != InstanceState.TERMINATED)
        .toList();
  }

  public static boolean terminating(InstanceView i) {
    return i.state() == InstanceState.SHUTTING_DOWN || i.state() == InstanceState.TERMINATED;
  }

  /** Options copied from {@code env} plus {@code more}. */
  public static Map<String, String> with(Map<String, String> env, Map<String, String> more) {
    Map<String, String> m = new HashMap<>(env);
    m.putAll(more);
    return m;
  }
}
