package dev.nixek.ci.protocol;

/** The report API's answer to an accepted report: {@code applied} or {@code duplicate} (a replay). */
public record ReportAck(String result) {
  public static final ReportAck APPLIED = new ReportAck("applied");
  public static final ReportAck DUPLICATE = new ReportAck("duplicate");
}
