package io.semisup.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** bench fixres chooses the test transform on validation after the fix, never on the test set. */
class BenchFixresChoiceTest {

  /** Outcomes {val before, test before, val after, test after} of one seed. */
  private static List<double[]> one(double valAfter, double testAfter) {
    return List.<double[]>of(new double[] {0, 0, valAfter, testAfter});
  }

  @Test
  void theBestValidationTopOneAfterTheFixWinsWhateverTheTestSetSays() {
    Map<BenchFixres.Cell, List<double[]>> byTest = new TreeMap<>();
    byTest.put(new BenchFixres.Cell(24, 1.0), one(0.75, 0.70));
    byTest.put(new BenchFixres.Cell(24, 1.143), one(0.74, 0.90));
    byTest.put(new BenchFixres.Cell(28, 1.0), one(0.73, 0.95));
    assertThat(BenchFixres.bestOnValidation(byTest)).isEqualTo(new BenchFixres.Cell(24, 1.0));
  }

  @Test
  void cellsOrderByResolutionThenRatio() {
    assertThat(new BenchFixres.Cell(24, 1.143)).isGreaterThan(new BenchFixres.Cell(24, 1.0));
    assertThat(new BenchFixres.Cell(20, 1.143)).isLessThan(new BenchFixres.Cell(24, 1.0));
  }
}
