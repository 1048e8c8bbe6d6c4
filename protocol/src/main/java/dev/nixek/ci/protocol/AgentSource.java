package dev.nixek.ci.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The repository a checkout step fetches: its clone URL (never with credentials), the exact commit, and whether
 * submodules come too. The credential, if the repository has one, is fetched at run time with the job token
 * ({@link CheckoutCredential#SECRET_REF}), never carried here.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AgentSource(String url, String rev, Boolean submodules) {
  /** Whether submodules are checked out. */
  public boolean withSubmodules() {
    return Boolean.TRUE.equals(submodules);
  }
}
