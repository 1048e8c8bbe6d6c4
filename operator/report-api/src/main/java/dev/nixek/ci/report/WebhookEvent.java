package dev.nixek.ci.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/**
 * A verified delivery's payload, read only as far as needed to check its shape and to tell what it is about: the
 * event, the ref, and for a pull request its action and whether its head is in a fork. Never the commit: the
 * operator asks the forge for the heads (docs/repositories.md#webhooks). GitHub's and Gitea's payloads agree on
 * every field read here.
 *
 * @param event the event header (push, pull_request, ping, or another the endpoint ignores)
 * @param ref the ref the delivery is about ({@code refs/heads/x}, {@code refs/tags/x}, {@code refs/pull/<n>/head}),
 *     or null
 * @param action a pull request's action, or null
 * @param fork whether a pull request's head is in another repository (or in one deleted since)
 * @param defaultBranch the repository's default branch as the payload names it, or null
 */
record WebhookEvent(String event, String ref, String action, boolean fork, String defaultBranch) {
  static final String PUSH = "push";
  static final String PULL_REQUEST = "pull_request";
  static final String PING = "ping";
  private static final int MAX_REF = 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Reads {@code body} as a delivery of {@code event}.
   *
   * @throws ApiError 400 for malformed JSON or a payload without the fields its event must have
   */
  static WebhookEvent parse(String event, byte[] body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest("the payload is not valid JSON");
    } catch (IOException e) {
      throw ApiError.badRequest("the payload cannot be read");
    }
    if (root == null || !root.isObject()) {
      throw ApiError.badRequest("the payload is not a JSON object");
    }
    return switch (event) {
      case PUSH -> push(root);
      case PULL_REQUEST -> pullRequest(root);
      default -> new WebhookEvent(event, null, null, false, defaultBranch(root));
    };
  }

  private static WebhookEvent push(JsonNode root) {
    String ref = text(root, "ref", "push");
    if (!ref.startsWith("refs/") || ref.length() > MAX_REF) {
      throw ApiError.badRequest("push: ref is not a ref (refs/...)");
    }
    repository(root, "push");
    return new WebhookEvent(PUSH, ref, null, false, defaultBranch(root));
  }

  private static WebhookEvent pullRequest(JsonNode root) {
    String action = text(root, "action", "pull_request");
    JsonNode number = root.get("number");
    if (number == null || !number.canConvertToLong() || !number.isIntegralNumber() || number.asLong() <= 0) {
      throw ApiError.badRequest("pull_request: number is not a positive integer");
    }
    JsonNode pr = root.get("pull_request");
    if (pr == null || !pr.isObject() || !pr.path("head").isObject()) {
      throw ApiError.badRequest("pull_request: pull_request.head is missing");
    }
    JsonNode base = repository(root, "pull_request");
    JsonNode headRepo = pr.path("head").get("repo");
    boolean fork;
    if (headRepo == null || headRepo.isNull()) {
      // the fork was deleted: nothing says whose it was, so it is treated as a fork
      fork = true;
    } else if (!headRepo.isObject()) {
      throw ApiError.badRequest("pull_request: pull_request.head.repo is not an object");
    } else if (headRepo.path("id").isIntegralNumber() && base.path("id").isIntegralNumber()) {
      fork = headRepo.path("id").asLong() != base.path("id").asLong();
    } else {
      fork = !headRepo.path("full_name").asText("").equalsIgnoreCase(base.path("full_name").asText(""));
    }
    return new WebhookEvent(PULL_REQUEST, "refs/pull/" + number.asLong() + "/head", action, fork,
        defaultBranch(root));
  }

  private static JsonNode repository(JsonNode root, String event) {
    JsonNode repo = root.get("repository");
    if (repo == null || !repo.isObject()) {
      throw ApiError.badRequest(event + ": repository is missing");
    }
    return repo;
  }

  private static String text(JsonNode root, String field, String event) {
    JsonNode n = root.get(field);
    if (n == null || !n.isTextual() || n.asText().isEmpty()) {
      throw ApiError.badRequest(event + ": " + field + " is missing or not a string");
    }
    return n.asText();
  }

  private static String defaultBranch(JsonNode root) {
    JsonNode b = root.path("repository").get("default_branch");
    return b != null && b.isTextual() && !b.asText().isEmpty() ? b.asText() : null;
  }
}
