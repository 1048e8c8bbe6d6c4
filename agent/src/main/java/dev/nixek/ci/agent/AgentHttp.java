package dev.nixek.ci.agent;

import java.net.http.HttpClient;
import java.time.Duration;

/**
 * The agent's one HTTP client (reports, secrets, the checkout's credential, artifacts), built on its first use. The
 * first use is the reporter thread's {@code started} report, so building it (the JDK's HttpClient, its selector
 * thread and the default TLS context with the CA certificates) happens beside the first step's start, not before it
 * (bench/agent-start). HTTP/1.1: no h2c upgrade dance with a plain-HTTP report API; one request in flight per
 * caller needs no multiplexing. Redirects are never followed: a bearer token goes to the report API only.
 */
final class AgentHttp {
  private AgentHttp() {}

  private static final class Holder {
    static final HttpClient CLIENT = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  static HttpClient client() {
    return Holder.CLIENT;
  }
}
