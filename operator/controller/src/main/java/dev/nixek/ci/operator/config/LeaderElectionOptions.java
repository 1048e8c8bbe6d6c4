package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.bool;
import static dev.nixek.ci.common.config.Parsers.dnsLabel;
import static dev.nixek.ci.common.config.Parsers.string;

import dev.nixek.ci.common.config.ConfigOption;
import java.util.List;
import java.util.Map;

/**
 * Leader election among operator replicas: a Lease in the operator namespace; only its holder reconciles. It saves
 * duplicate work, it is not what keeps two replicas correct: launches are idempotent (ClientToken = launch token,
 * written to status with a resourceVersion precondition before the launch) and every status write either applies
 * only the operator's own fields or carries a resourceVersion precondition. Part of {@link OperatorConfig}.
 *
 * @param enabled whether replicas elect a leader
 * @param leaseName the Lease's name
 * @param identity this replica's name in the election; empty: {@code $HOSTNAME} (the pod name), else a random id
 */
public record LeaderElectionOptions(boolean enabled, String leaseName, String identity) {
  public static final ConfigOption<Boolean> ENABLED = new ConfigOption<>("NIXEK_LEADER_ELECTION", "false",
      "elect a leader among operator replicas (a Lease in the operator namespace); only the leader reconciles. "
      + "The Helm chart turns it on", bool());
  public static final ConfigOption<String> LEASE_NAME = new ConfigOption<>("NIXEK_LEADER_LEASE_NAME",
      "nixek-operator", "name of the leader-election Lease in the operator namespace", dnsLabel());
  public static final ConfigOption<String> IDENTITY = new ConfigOption<>("NIXEK_LEADER_IDENTITY", "",
      "this replica's identity in the leader election (the chart sets the pod name); empty: $HOSTNAME, else a "
      + "random id", string());

  public static final List<ConfigOption<?>> OPTIONS = List.of(ENABLED, LEASE_NAME, IDENTITY);

  public static LeaderElectionOptions fromEnv(Map<String, String> env) {
    return new LeaderElectionOptions(ENABLED.read(env), LEASE_NAME.read(env), IDENTITY.read(env));
  }
}
