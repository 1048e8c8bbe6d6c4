package dev.nixek.ci.e2e.chart;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/** The objects a {@code helm template} printed, parsed into fabric8's typed model. */
public record Rendered(List<HasMetadata> objects) {
  public static Rendered parse(String yaml) {
    List<HasMetadata> objects = new ArrayList<>();
    for (String doc : yaml.split("(?m)^---\\s*$")) {
      if (doc.lines().allMatch(l -> l.isBlank() || l.trim().startsWith("#"))) {
        continue;
      }
      objects.add(Serialization.unmarshal(doc));
    }
    return new Rendered(List.copyOf(objects));
  }

  public <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  public <T extends HasMetadata> T get(Class<T> type, String name) {
    return all(type).stream().filter(o -> name.equals(o.getMetadata().getName())).findFirst()
        .orElseThrow(() -> new NoSuchElementException("no " + type.getSimpleName() + " " + name + " in " + names()));
  }

  /** kind/namespace/name of every object. */
  public List<String> names() {
    return objects.stream().map(Rendered::key).toList();
  }

  public static String key(HasMetadata o) {
    return o.getKind() + "/" + (o.getMetadata().getNamespace() == null ? "" : o.getMetadata().getNamespace() + "/")
        + o.getMetadata().getName();
  }

  public static Container container(Deployment d, String name) {
    return d.getSpec().getTemplate().getSpec().getContainers().stream().filter(c -> name.equals(c.getName()))
        .findFirst().orElseThrow(() -> new NoSuchElementException("no container " + name));
  }

  /**
   * A container's environment as the kubelet would give it: plain values, and {@code fieldRef}s resolved from
   * {@code fields} (e.g. {@code metadata.namespace}). Anything else fails: the chart uses nothing else.
   */
  public static Map<String, String> env(Container c, Map<String, String> fields) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar v : c.getEnv()) {
      if (v.getValueFrom() == null) {
        env.put(v.getName(), v.getValue() == null ? "" : v.getValue());
      } else if (v.getValueFrom().getFieldRef() != null) {
        String path = v.getValueFrom().getFieldRef().getFieldPath();
        if (!fields.containsKey(path)) {
          throw new IllegalArgumentException(v.getName() + ": no value for field " + path);
        }
        env.put(v.getName(), fields.get(path));
      } else {
        throw new IllegalArgumentException(v.getName() + ": unsupported valueFrom " + v.getValueFrom());
      }
    }
    return env;
  }
}
