package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.oneOf;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.common.config.ConfigOption;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Where builder pods run and how they get KVM (docs/images.md#kvm): nixpkgs builds a disk image in a VM, and a pod
 * sees no /dev/kvm unless a device plugin hands it one. Part of {@link ImageOptions}.
 *
 * @param kvmResource the extended resource a device plugin offers for /dev/kvm (one is put in the pod's limits);
 *     empty: none is requested
 * @param kvmFallback what the builder does when the build needs KVM and the pod has none
 * @param nodeSelector the pod's nodeSelector (e.g. the KVM nodes' label); empty for none
 * @param tolerations the pod's tolerations (e.g. of the KVM nodes' taint); empty for none
 */
public record BuilderSchedulingOptions(
    String kvmResource,
    KvmFallback kvmFallback,
    Map<String, String> nodeSelector,
    List<Toleration> tolerations) {

  /** Without a usable KVM device, a build that needs one: fails at once, or runs emulated (slow). */
  public enum KvmFallback { FAIL, EMULATE }

  private static final String LABEL_NAME = "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?";
  private static final String DNS_SUBDOMAIN = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";

  public static final ConfigOption<String> KVM_RESOURCE = new ConfigOption<>("NIXEK_BUILDER_KVM_RESOURCE", "",
      "extended resource of a KVM device plugin (e.g. devices.kubevirt.io/kvm, squat.ai/kvm): builder pods get 1 "
      + "in their limits, and with it /dev/kvm, which nixpkgs' disk-image VM needs; empty or none: no request (a "
      + "build that needs KVM then fails at once, unless NIXEK_BUILDER_KVM_FALLBACK=emulate)", extendedResource());
  public static final ConfigOption<KvmFallback> KVM_FALLBACK = new ConfigOption<>("NIXEK_BUILDER_KVM_FALLBACK",
      "fail", "a builder pod without a usable /dev/kvm whose build needs KVM: 'fail' (BuildFailed at once, saying "
      + "what to configure) or 'emulate' (QEMU without KVM: many times slower)", oneOf(KvmFallback.class));
  public static final ConfigOption<Map<String, String>> NODE_SELECTOR = new ConfigOption<>(
      "NIXEK_BUILDER_NODE_SELECTOR", "", "nodeSelector of builder pods, key=value,... (e.g. the label of nodes "
      + "with KVM); empty: none", nodeSelectorParser());
  public static final ConfigOption<List<Toleration>> TOLERATIONS = new ConfigOption<>("NIXEK_BUILDER_TOLERATIONS",
      "", "tolerations of builder pods as a JSON list of Kubernetes tolerations (e.g. "
      + "[{\"key\":\"kvm\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]); empty: none", tolerationsParser());

  public static final List<ConfigOption<?>> OPTIONS = List.of(KVM_RESOURCE, KVM_FALLBACK, NODE_SELECTOR, TOLERATIONS);

  public BuilderSchedulingOptions {
    nodeSelector = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(nodeSelector));
    tolerations = List.copyOf(tolerations);
  }

  public static BuilderSchedulingOptions fromEnv(Map<String, String> env) {
    return new BuilderSchedulingOptions(KVM_RESOURCE.read(env), KVM_FALLBACK.read(env), NODE_SELECTOR.read(env),
        TOLERATIONS.read(env));
  }

  /** A domain-prefixed resource name, as device plugins register them; {@code none} or empty for none. */
  static Function<String, String> extendedResource() {
    return s -> {
      if (s == null || s.isEmpty() || s.equals("none")) {
        return "";
      }
      int slash = s.indexOf('/');
      if (slash < 1 || !s.substring(0, slash).matches(DNS_SUBDOMAIN) || s.length() - slash - 1 > 63
          || !s.substring(slash + 1).matches(LABEL_NAME)) {
        throw new IllegalArgumentException("expected an extended resource name like devices.kubevirt.io/kvm, or "
            + "none");
      }
      if (s.substring(0, slash).equals("kubernetes.io") || s.substring(0, slash).endsWith(".kubernetes.io")) {
        throw new IllegalArgumentException("expected an extended resource name, not one in kubernetes.io");
      }
      return s;
    };
  }

  /** {@code key=value,...}: label keys (an optional DNS prefix and a name) and label values. */
  static Function<String, Map<String, String>> nodeSelectorParser() {
    return s -> {
      Map<String, String> out = new LinkedHashMap<>();
      if (s == null || s.isBlank()) {
        return out;
      }
      for (String item : s.split(",")) {
        String pair = item.trim();
        int eq = pair.indexOf('=');
        String key = eq < 0 ? pair : pair.substring(0, eq).trim();
        String value = eq < 0 ? null : pair.substring(eq + 1).trim();
        if (value == null || !labelKey(key) || !(value.isEmpty() || value.matches(LABEL_NAME))) {
          throw new IllegalArgumentException("'" + pair + "': expected key=value with a label key and value");
        }
        if (out.put(key, value) != null) {
          throw new IllegalArgumentException("'" + key + "' given twice");
        }
      }
      return out;
    };
  }

  private static boolean labelKey(String key) {
    int slash = key.indexOf('/');
    String prefix = slash < 0 ? null : key.substring(0, slash);
    String name = slash < 0 ? key : key.substring(slash + 1);
    return (prefix == null || prefix.length() <= 253 && prefix.matches(DNS_SUBDOMAIN)) && name.matches(LABEL_NAME);
  }

  /** A JSON list of tolerations, each checked as the API server would, so a typo stops start-up, not every build. */
  static Function<String, List<Toleration>> tolerationsParser() {
    ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
    Set<String> effects = Set.of("NoSchedule", "PreferNoSchedule", "NoExecute");
    return s -> {
      if (s == null || s.isBlank()) {
        return List.of();
      }
      List<Toleration> list;
      try {
        list = json.readValue(s, new TypeReference<List<Toleration>>() {});
      } catch (Exception e) {
        throw new IllegalArgumentException("expected a JSON list of tolerations ({key, operator, value, effect, "
            + "tolerationSeconds})");
      }
      for (Toleration t : list) {
        if (t == null) {
          throw new IllegalArgumentException("a toleration is null");
        }
        String what = "toleration " + json.valueToTree(t);
        if (!t.getAdditionalProperties().isEmpty()) {
          throw new IllegalArgumentException(what + ": unknown field " + t.getAdditionalProperties().keySet());
        }
        String op = t.getOperator() == null ? "Equal" : t.getOperator();
        if (!op.equals("Equal") && !op.equals("Exists")) {
          throw new IllegalArgumentException(what + ": operator must be Equal or Exists");
        }
        if (op.equals("Exists") && t.getValue() != null && !t.getValue().isEmpty()) {
          throw new IllegalArgumentException(what + ": operator Exists takes no value");
        }
        if ((t.getKey() == null || t.getKey().isEmpty()) && !op.equals("Exists")) {
          throw new IllegalArgumentException(what + ": an empty key needs operator Exists");
        }
        if (t.getKey() != null && !t.getKey().isEmpty() && !labelKey(t.getKey())) {
          throw new IllegalArgumentException(what + ": key is not a label key");
        }
        if (t.getEffect() != null && !t.getEffect().isEmpty() && !effects.contains(t.getEffect())) {
          throw new IllegalArgumentException(what + ": effect must be NoSchedule, PreferNoSchedule or NoExecute");
        }
        if (t.getTolerationSeconds() != null && !"NoExecute".equals(t.getEffect())) {
          throw new IllegalArgumentException(what + ": tolerationSeconds needs effect NoExecute");
        }
      }
      return list;
    };
  }
}
