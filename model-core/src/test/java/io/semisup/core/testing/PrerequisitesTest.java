package io.semisup.core.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherConfig;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/** A missing prerequisite fails under CI and is a counted, reported skip elsewhere. */
class PrerequisitesTest {

  @Test
  void onCiAMissingPrerequisiteFailsAndNamesThePackage() {
    assertThatThrownBy(() -> Prerequisites.require(false, "Chromium at /usr/bin/chromium", "chromium", true))
        .isExactlyInstanceOf(AssertionError.class)
        .hasMessageContaining("Chromium at /usr/bin/chromium")
        .hasMessageContaining("apt-get install -y chromium");
    Prerequisites.require(true, "Chromium", "chromium", true);
  }

  @Test
  void elsewhereItSkipsAndTheSummaryCountsEverySkippedTest() {
    assertThatThrownBy(() -> Prerequisites.require(false, "a", "pkg-a", false))
        .isInstanceOf(MissingPrerequisite.class)
        .hasMessageContaining("apt-get install -y pkg-a");

    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    SummaryGeneratingListener counts = new SummaryGeneratingListener();
    // Only these two listeners: the one registered for the whole build stays out of this run.
    Launcher launcher = LauncherFactory.create(
        LauncherConfig.builder().enableTestExecutionListenerAutoRegistration(false).build());
    launcher.execute(
        LauncherDiscoveryRequestBuilder.request()
            .selectors(selectClass(NeedsPackageA.class), selectClass(NeedsPackageBForEveryTest.class))
            .build(),
        new MissingPrerequisitesSummary(new PrintStream(buf, true, StandardCharsets.UTF_8)), counts);

    TestExecutionSummary summary = counts.getSummary();
    assertThat(summary.getTestsSucceededCount()).isEqualTo(1);
    assertThat(summary.getTestsFailedCount()).isZero();
    String report = buf.toString(StandardCharsets.UTF_8);
    assertThat(report.lines().filter(l -> l.startsWith("SKIPPED")).toList()).containsExactly(
        "SKIPPED 2 tests: missing pkg-a (apt-get install -y pkg-a)",
        "SKIPPED 3 tests: missing pkg-b python3-x (apt-get install -y pkg-b python3-x)");
    assertThat(report).as("a plain assumption is not a missing prerequisite").doesNotContain("plain");
  }

  /** Run only by the launcher above (surefire leaves nested classes alone). */
  static class NeedsPackageA {
    @Test
    void first() {
      Prerequisites.require(false, "a", "pkg-a", false);
    }

    @Test
    void second() {
      Prerequisites.require(false, "a", "pkg-a", false);
    }

    @Test
    void plainAssumption() {
      Assumptions.assumeTrue(false, "plain");
    }

    @Test
    void present() {
      Prerequisites.require(true, "a", "pkg-a", false);
    }
  }

  /** Skipped as a whole in {@code @BeforeAll}: each of its tests counts. */
  static class NeedsPackageBForEveryTest {
    @BeforeAll
    static void check() {
      Prerequisites.require(false, "b", "pkg-b python3-x", false);
    }

    @Test
    void one() {}

    @Test
    void two() {}

    @Test
    void three() {}
  }
}
