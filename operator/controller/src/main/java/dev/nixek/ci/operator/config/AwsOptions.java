package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.bool;
import static dev.nixek.ci.common.config.Parsers.optionalHttpUrl;
import static dev.nixek.ci.common.config.Parsers.matching;

import dev.nixek.ci.common.config.ConfigOption;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the operator reaches AWS. Part of {@link OperatorConfig}. Credentials are not configured here: the SDK's
 * default chain finds them (IRSA / pod identity in a cluster).
 *
 * @param region the default AWS region; empty: the SDK's default region chain ({@code AWS_REGION}, profile, IMDS)
 * @param ec2Endpoint an EC2 endpoint override (tests, VPC endpoints); empty: the region's public endpoint
 * @param s3Endpoint an S3 endpoint override (tests, S3-compatible stores); also handed to builder pods
 * @param s3PathStyle path-style bucket addressing (S3-compatible stores)
 */
public record AwsOptions(String region, Optional<URI> ec2Endpoint, Optional<URI> s3Endpoint, boolean s3PathStyle) {
  public static final ConfigOption<String> REGION = new ConfigOption<>("NIXEK_AWS_REGION", "",
      "default AWS region (empty: the SDK's default region chain, e.g. AWS_REGION)",
      matching("[a-z]{2}(-[a-z]+)+-[0-9]+", "a region like us-east-1", true));
  public static final ConfigOption<Optional<URI>> EC2_ENDPOINT = new ConfigOption<>("NIXEK_EC2_ENDPOINT", "",
      "EC2 endpoint override (tests, VPC endpoints); empty: the region's endpoint", optionalHttpUrl());
  public static final ConfigOption<Optional<URI>> S3_ENDPOINT = new ConfigOption<>("NIXEK_S3_ENDPOINT", "",
      "S3 endpoint override (tests, S3-compatible stores), also given to builder pods; empty: the region's endpoint",
      optionalHttpUrl());
  public static final ConfigOption<Boolean> S3_PATH_STYLE = new ConfigOption<>("NIXEK_S3_PATH_STYLE", "false",
      "path-style S3 bucket addressing (S3-compatible stores)", bool());

  public static final List<ConfigOption<?>> OPTIONS = List.of(REGION, EC2_ENDPOINT, S3_ENDPOINT, S3_PATH_STYLE);

  public static AwsOptions fromEnv(Map<String, String> env) {
    return new AwsOptions(REGION.read(env), EC2_ENDPOINT.read(env), S3_ENDPOINT.read(env), S3_PATH_STYLE.read(env));
  }
}
