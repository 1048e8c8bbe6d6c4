package dev.nixek.ci.e2e.chart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The kube-apiserver's audit log (JSON lines) of ServiceAccount requests: what the operator and the report API
 * actually asked of the API, and what RBAC answered. {@link #POLICY} is the policy that writes it.
 */
public final class AuditLog {
  /** Metadata of every request by a ServiceAccount, nothing else. */
  public static final String POLICY = """
      apiVersion: audit.k8s.io/v1
      kind: Policy
      omitStages: ["RequestReceived"]
      rules:
        - level: Metadata
          userGroups: ["system:serviceaccounts"]
        - level: None
      """;

  /** One request to a resource (non-resource URLs such as discovery are left out). */
  public record Request(String user, String verb, String apiGroup, String resource, String namespace, String name,
      int code) {
    public boolean allowed() {
      return code != 403;
    }

    @Override
    public String toString() {
      return verb + " " + (apiGroup.isEmpty() ? "" : apiGroup + "/") + resource
          + (namespace.isEmpty() ? "" : " -n " + namespace) + (name.isEmpty() ? "" : " " + name) + " -> " + code;
    }
  }

  private AuditLog() {}

  /** The requests of {@code user} (e.g. {@code system:serviceaccount:ns:sa}) logged so far, in order. */
  public static List<Request> read(Path log, String user) {
    ObjectMapper json = new ObjectMapper();
    List<Request> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    try {
      if (!Files.exists(log)) {
        return out;
      }
      for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode e = json.readTree(line);
        if (!user.equals(e.path("user").path("username").asText()) || !e.has("objectRef")
            || !seen.add(e.path("auditID").asText())) {
          continue; // a watch logs ResponseStarted and ResponseComplete: count it once
        }
        JsonNode ref = e.get("objectRef");
        String resource = ref.path("resource").asText()
            + (ref.hasNonNull("subresource") ? "/" + ref.get("subresource").asText() : "");
        out.add(new Request(user, e.path("verb").asText(), ref.path("apiGroup").asText(""), resource,
            ref.path("namespace").asText(""), ref.path("name").asText(""),
            e.path("responseStatus").path("code").asInt(0)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
