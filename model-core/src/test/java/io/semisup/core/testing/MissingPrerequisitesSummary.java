package io.semisup.core.testing;

import java.io.PrintStream;
import java.util.Map;
import java.util.TreeMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Prints, at the end of a test run, how many tests were skipped for each missing prerequisite and
 * the command that installs it: {@code SKIPPED 5 tests: missing dataset-fashion-mnist (apt-get
 * install -y dataset-fashion-mnist)}. Registered through {@code META-INF/services}, so every
 * launcher (Maven's, an IDE's) runs it; silent when nothing was skipped.
 */
public final class MissingPrerequisitesSummary implements TestExecutionListener {

  private final PrintStream out;
  private final Map<String, Long> skippedByPackages = new TreeMap<>();
  private TestPlan plan;

  public MissingPrerequisitesSummary() {
    this(System.out);
  }

  MissingPrerequisitesSummary(PrintStream out) {
    this.out = out;
  }

  @Override
  public synchronized void testPlanExecutionStarted(TestPlan testPlan) {
    plan = testPlan;
    skippedByPackages.clear();
  }

  @Override
  public synchronized void executionFinished(TestIdentifier id, TestExecutionResult result) {
    if (result.getStatus() == TestExecutionResult.Status.ABORTED
        && result.getThrowable().orElse(null) instanceof MissingPrerequisite missing) {
      // A class skipped in @BeforeAll skips all its tests.
      long tests = id.isTest() ? 1 : plan.getDescendants(id).stream().filter(TestIdentifier::isTest).count();
      skippedByPackages.merge(missing.packages(), Math.max(tests, 1), Long::sum);
    }
  }

  @Override
  public synchronized void testPlanExecutionFinished(TestPlan testPlan) {
    if (skippedByPackages.isEmpty()) {
      return;
    }
    out.println();
    out.println("=".repeat(100));
    skippedByPackages.forEach((packages, n) -> out.println(
        "SKIPPED " + n + (n == 1 ? " test" : " tests") + ": missing " + packages + " (apt-get install -y " + packages + ")"));
    out.println("Run with " + Prerequisites.CI + "=true to fail on these instead (CI does).");
    out.println("=".repeat(100));
    out.flush();
  }
}
