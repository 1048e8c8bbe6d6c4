package dev.nixek.ci.operator.repository;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JobNamingTest {
  private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

  @Test
  void aPlainNameIsRepositoryShortCommitAndJob() {
    assertThat(JobNaming.jobName("app", SHA, "hello")).isEqualTo("app-01234567-hello");
    assertThat(JobNaming.jobName("app", SHA, "hello")).isEqualTo(JobNaming.jobName("app", SHA, "hello"));
  }

  @Test
  void cleanedOrCutNamesGetAHashAndStayDistinct() {
    String upper = JobNaming.jobName("app", SHA, "Build");
    String lower = JobNaming.jobName("app", SHA, "build");
    String underscore = JobNaming.jobName("app", SHA, "unit_tests");
    String dash = JobNaming.jobName("app", SHA, "unit-tests");
    assertThat(upper).isNotEqualTo(lower).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    assertThat(underscore).isNotEqualTo(dash).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    String longName = JobNaming.jobName("a".repeat(200), SHA, "job");
    assertThat(longName).hasSizeLessThanOrEqualTo(63).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    assertThat(JobNaming.jobName("a".repeat(200), SHA, "job2")).isNotEqualTo(longName);
    assertThat(JobNaming.jobName("my.repo", SHA, "x")).doesNotContain(".").hasSizeLessThanOrEqualTo(63);
  }

  @Test
  void jobNamesAreWhatAFlakeAttributeMayBe() {
    assertThat(JobNaming.JOB_NAME.matcher("hello").matches()).isTrue();
    assertThat(JobNaming.JOB_NAME.matcher("it's-ok_1").matches()).isTrue();
    assertThat(JobNaming.JOB_NAME.matcher("two words").matches()).isFalse();
    assertThat(JobNaming.JOB_NAME.matcher("1st").matches()).isFalse();
    assertThat(JobNaming.JOB_NAME.matcher("a.b").matches()).isFalse();
  }
}
