package dev.nixek.ci.agent;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.Json;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Turns config bytes into a checked {@link AgentConfig}. Error messages never quote the document: a syntax error
 * can sit right inside the token, so only its position is reported, and the token is cut out of mapping errors.
 */
final class ConfigParser {
  /** Kubernetes object names (RFC 1123 subdomain); they become report URL path segments. */
  private static final Pattern K8S_NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  /**
   * A clone URL as the CRD allows it (NixekJobSource.URL_PATTERN: no whitespace, quote, shell or control characters),
   * and no user-info on http(s).
   */
  private static final Pattern SOURCE_URL = Pattern.compile(
      "(https?://[A-Za-z0-9\\[][^\\s\"'\\\\$`?#/@]*(/[^\\s\"'\\\\$`?#]*)?"
      + "|ssh://([A-Za-z0-9._~-]+@)?[A-Za-z0-9\\[][^\\s\"'\\\\$`?#]*|file:///[^\\s\"'\\\\$`?#]*)");
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}|[0-9a-f]{64}");

  private ConfigParser() {}

  static AgentConfig parse(byte[] json) throws UsageException {
    JsonNode tree;
    try {
      tree = Json.mapper().readTree(json);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw new UsageException("config is not valid JSON"
          + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
    } catch (java.io.IOException e) {
      throw new UsageException("config could not be read: " + e.getClass().getSimpleName());
    }
    if (tree == null || !tree.isObject()) {
      throw new UsageException("config is not a JSON object");
    }
    String token = tree.path("token").isTextual() ? tree.get("token").asText() : null;
    AgentConfig config;
    try {
      config = Json.mapper().treeToValue(tree, AgentConfig.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      String message = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
      throw new UsageException("config does not match " + AgentConfig.VERSION + ": " + redact(message, token));
    }
    validate(config);
    return config;
  }

  private static void validate(AgentConfig c) throws UsageException {
    if (!AgentConfig.VERSION.equals(c.version())) {
      throw new UsageException("config version must be " + AgentConfig.VERSION + ", got " + c.version());
    }
    requireName("namespace", c.namespace());
    requireName("name", c.name());
    if (c.token() == null || c.token().isBlank() || c.token().chars().anyMatch(ch -> ch < 0x21 || ch > 0x7e)) {
      throw new UsageException("config token is missing or not printable ASCII");
    }
    if (c.reportUrl() == null) {
      throw new UsageException("config reportUrl is missing");
    }
    try {
      URI url = new URI(c.reportUrl());
      // never echo the URL: it might carry credentials in its user-info part
      if (!("http".equals(url.getScheme()) || "https".equals(url.getScheme())) || url.getHost() == null
          || url.getRawUserInfo() != null || url.getRawQuery() != null || url.getRawFragment() != null) {
        throw new UsageException("config reportUrl must be an http(s) URL without user-info, query or fragment");
      }
    } catch (URISyntaxException e) {
      throw new UsageException("config reportUrl is not a URL");
    }
    for (int i = 0; i < c.steps().size(); i++) {
      validateStep(i, c.steps().get(i));
    }
  }

  private static void validateStep(int index, AgentStep step) throws UsageException {
    String where = "config steps[" + index + "]";
    if (step == null) {
      throw new UsageException(where + " is null");
    }
    if (step.name() == null || step.name().isBlank()) {
      throw new UsageException(where + " has no name");
    }
    if (step.type() != null || step.source() != null) {
      validateCheckout(index, where, step);
      return;
    }
    if ((step.run() == null) == (step.command() == null)) {
      throw new UsageException(where + " (" + step.name() + ") needs exactly one of run and command");
    }
    if (step.command() != null && step.command().isEmpty()) {
      throw new UsageException(where + " (" + step.name() + ") command must not be empty");
    }
    if (step.timeoutSeconds() != null && step.timeoutSeconds() <= 0) {
      throw new UsageException(where + " (" + step.name() + ") timeoutSeconds must be positive");
    }
    if (step.env() != null) {
      for (Map.Entry<String, String> e : step.env().entrySet()) {
        if (e.getKey().isEmpty() || e.getKey().indexOf('=') >= 0 || e.getKey().indexOf('\0') >= 0
            || e.getValue() == null || e.getValue().indexOf('\0') >= 0) {
          throw new UsageException(where + " (" + step.name() + ") has an invalid env entry " + e.getKey());
        }
      }
    }
  }

  /** The checkout step: first, alone of its kind, with a source the agent may hand to git. */
  private static void validateCheckout(int index, String where, AgentStep step) throws UsageException {
    String what = where + " (" + step.name() + ")";
    if (!step.isCheckout() || step.source() == null) {
      throw new UsageException(what + " must be type " + AgentStep.CHECKOUT + " with a source");
    }
    if (index != 0) {
      throw new UsageException(what + ": only the first step may be the checkout");
    }
    if (step.run() != null || step.command() != null || step.env() != null) {
      throw new UsageException(what + ": the checkout step has no run, command or env");
    }
    if (step.timeoutSeconds() != null && step.timeoutSeconds() <= 0) {
      throw new UsageException(what + " timeoutSeconds must be positive");
    }
    String url = step.source().url();
    // never echo the URL: it is refused exactly when it might carry credentials
    if (url == null || !SOURCE_URL.matcher(url).matches()) {
      throw new UsageException(what + " source.url must be an https, ssh or file URL without credentials");
    }
    if (step.source().rev() == null || !COMMIT.matcher(step.source().rev()).matches()) {
      throw new UsageException(what + " source.rev must be a full commit hash");
    }
  }

  private static void requireName(String field, String value) throws UsageException {
    if (value == null || !K8S_NAME.matcher(value).matches()) {
      throw new UsageException("config " + field + " must be a Kubernetes object name, got " + value);
    }
  }

  private static String redact(String message, String token) {
    if (message == null) {
      return "";
    }
    return token == null || token.isEmpty() ? message : message.replace(token, "<redacted>");
  }
}
