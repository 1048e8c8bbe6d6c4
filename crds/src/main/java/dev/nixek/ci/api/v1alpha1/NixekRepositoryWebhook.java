package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The last verified webhook delivery of a repository, as the report API recorded it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekRepositoryWebhook {
  /** The forge's delivery id. */
  @JsonPropertyDescription("The delivery id (X-GitHub-Delivery / X-Gitea-Delivery).")
  public String deliveryId;

  /** The event, e.g. push or pull_request. */
  @JsonPropertyDescription("The event (X-GitHub-Event), e.g. push or pull_request.")
  public String event;

  /** The ref the delivery was about, when it named one. */
  @JsonPropertyDescription("The ref the delivery named, if any; informative only.")
  public String ref;

  /** When the report API received it. */
  @JsonPropertyDescription("When the report API received the delivery (RFC 3339).")
  public String receivedAt;
}
