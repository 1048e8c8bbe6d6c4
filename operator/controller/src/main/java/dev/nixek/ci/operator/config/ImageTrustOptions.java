package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.intRange;
import static dev.nixek.ci.common.config.Parsers.oneOf;

import dev.nixek.ci.common.config.ConfigOption;
import java.util.List;
import java.util.Map;

/**
 * Who may share what an image build made, and what a builder pod is handed to upload it (docs/images.md#trust-domains,
 * docs/images.md#the-upload). Part of {@link ImageOptions}.
 *
 * @param trustDomain images are shared within a namespace (the default) or across the cluster
 * @param uploadParts how many presigned part URLs a builder pod gets for its one object
 */
public record ImageTrustOptions(TrustDomain trustDomain, int uploadParts) {

  /** The scope within which one build serves many images. */
  public enum TrustDomain {
    /** Each namespace builds its own machines: an image made in one is never used by another. */
    NAMESPACE,
    /** One domain for the whole cluster: for single-tenant installations. */
    CLUSTER;

    /**
     * The domain of an image in {@code namespace}, as it enters the identity: empty for the cluster, so that a
     * cluster-wide installation keeps the identities (and AMIs) it had before trust domains existed.
     */
    public String of(String namespace) {
      return this == CLUSTER ? "" : "namespace/" + namespace;
    }
  }

  public static final ConfigOption<TrustDomain> TRUST_DOMAIN = new ConfigOption<>("NIXEK_IMAGE_TRUST_DOMAIN",
      "namespace", "who shares a machine image: 'namespace' (an image built in one namespace is never used by "
      + "another: each builds its own) or 'cluster' (every namespace shares one build per machine; only for "
      + "installations whose namespaces trust each other)", oneOf(TrustDomain.class));
  public static final ConfigOption<Integer> UPLOAD_PARTS = new ConfigOption<>("NIXEK_BUILDER_UPLOAD_PARTS", "256",
      "presigned part URLs a builder pod gets for its image's one S3 object (the builder's part size grows to fit "
      + "the image in them); each URL is about 1-2 KiB of the pod's upload Secret", intRange(1, 512));

  public static final List<ConfigOption<?>> OPTIONS = List.of(TRUST_DOMAIN, UPLOAD_PARTS);

  public static ImageTrustOptions fromEnv(Map<String, String> env) {
    return new ImageTrustOptions(TRUST_DOMAIN.read(env), UPLOAD_PARTS.read(env));
  }

  /** The defaults: namespace domains. */
  public static ImageTrustOptions defaults() {
    return fromEnv(Map.of());
  }
}
