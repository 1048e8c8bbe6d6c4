package dev.nixek.ci.protocol;

/** The report API's answer to a refused report; {@code error} is a stable machine-readable word. */
public record ReportError(String error, String message) {}
