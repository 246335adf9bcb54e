package io.semisup.jobs.ablate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The ablation chooses its best cell on validation and reports that cell's test figure: built
 * on a table where validation and test disagree, so a choice made on test would pick the other
 * cell.
 */
class AblationTableTest {

  private static final Variant SMALL_K = new Variant("k", "K=500", List.of("select.k=500"), "finetuned", 500);
  private static final Variant LARGE_K = new Variant("k", "K=5000", List.of("select.k=5000"), "finetuned", 5000);

  /** Two seeds; K=500 is better on validation, K=5000 on test. */
  private static List<CellResult> disagreeing() {
    return List.of(
        new CellResult(SMALL_K, 1, "a-s1.k500", 0.84, 0.80, 0.9, 10, 0.86, 0.81),
        new CellResult(LARGE_K, 1, "a-s1", 0.87, 0.80, 0.9, 10, 0.84, 0.81),
        new CellResult(SMALL_K, 2, "a-s2.k500", 0.85, 0.82, 0.9, 10, 0.88, 0.83),
        new CellResult(LARGE_K, 2, "a-s2", 0.88, 0.82, 0.9, 10, 0.85, 0.83));
  }

  @Test
  void choosesOnValidationAndReportsTheChosenCellsTestFigure() {
    AblationTable table = new AblationTable(disagreeing(), List.of(0.90, 0.92), List.of(0.91, 0.93));

    AblationTable.Row chosen = table.chosen().orElseThrow();
    assertThat(chosen.variant()).isEqualTo(SMALL_K);
    assertThat(chosen.validationMean()).isCloseTo(0.87, within(1e-9));
    assertThat(chosen.top1Mean()).isCloseTo(0.845, within(1e-9));
    // Gap on test: (0.845 - 0.81) / (0.91 - 0.81).
    assertThat(chosen.gapClosed()).isCloseTo(0.35, within(1e-9));

    Map<String, Object> choice = table.choice();
    assertThat(choice).containsEntry("chosen_on", "validation").containsEntry("variant", "K=500");
    assertThat((double) choice.get("test_top1")).isCloseTo(0.845, within(1e-9));
    assertThat((double) choice.get("ceiling_validation_top1")).isCloseTo(0.92, within(1e-9));
    assertThat((double) choice.get("teacher_validation_top1")).isCloseTo(0.82, within(1e-9));

    String md = table.markdown();
    assertThat(md).contains("| k | **K=500** (chosen) | 87.00 ± 1.41 | 84.50 ± 0.71 |")
        .contains("| reference | ceiling (all labels) | 92.00 ± 1.41 | 91.00 ± 1.41 |")
        .contains("Chosen on validation: k K=500, validation top-1 87.00%; its test top-1 84.50 ± 0.71%");
    List<String> csv = table.csv().lines().toList();
    assertThat(csv.get(0)).endsWith(",validation_top1_mean,validation_top1_std,chosen,own_teacher_top1");
    assertThat(csv).anyMatch(l -> l.startsWith("k,\"K=500\"") && l.endsWith(",true,"))
        .anyMatch(l -> l.startsWith("k,\"K=5000\"") && l.endsWith(",false,"));
  }

  @Test
  void aCellThatTrainsItsOwnTeacherIsMeasuredFromIt() {
    // A stronger teacher recipe (own teacher 0.84 on both seeds) lifts the student to 0.87: from
    // the base teacher (0.81) that would be 60% of the gap, but the recipe alone made 30 of it.
    Variant strong = new Variant("cells", "teacher.epochs=200", List.of("teacher.epochs=200"), "finetuned", Double.NaN);
    List<CellResult> results = List.of(
        new CellResult(SMALL_K, 1, "a-s1.k500", 0.84, 0.80, 0.9, 10, 0.86, 0.81),
        new CellResult(strong, 1, "a-s1.t", 0.86, 0.80, 0.9, 10, 0.87, 0.81, 0.84),
        new CellResult(SMALL_K, 2, "a-s2.k500", 0.85, 0.82, 0.9, 10, 0.88, 0.83),
        new CellResult(strong, 2, "a-s2.t", 0.88, 0.82, 0.9, 10, 0.89, 0.83, 0.84));
    AblationTable table = new AblationTable(results, List.of(0.90, 0.92));

    AblationTable.Row chosen = table.chosen().orElseThrow();
    assertThat(chosen.variant()).isEqualTo(strong);
    assertThat(chosen.ownTeacherMean()).isCloseTo(0.84, within(1e-9));
    // (0.87 - 0.84) / (0.91 - 0.84), not (0.87 - 0.81) / (0.91 - 0.81).
    assertThat(chosen.gapClosed()).isCloseTo(3.0 / 7, within(1e-9));
    assertThat(table.rows().get(0).gapClosed()).isCloseTo(0.35, within(1e-9));
    assertThat(table.markdown()).contains("| reference | teacher (labelled only) | 82.00 ± 1.41 | 81.00 ± 1.41 |")
        .contains("43% from its own teacher (84.00%)")
        .contains("42.9% of the teacher-to-ceiling gap from its own teacher (84.00%)");
    assertThat((double) table.choice().get("own_teacher_test_top1")).isCloseTo(0.84, within(1e-9));
  }

  @Test
  void withoutValidationFiguresNothingIsChosen() {
    List<CellResult> noValidation = List.of(
        new CellResult(SMALL_K, 1, "a-s1.k500", 0.84, 0.80, 0.9, 10),
        new CellResult(LARGE_K, 1, "a-s1", 0.87, 0.80, 0.9, 10));
    AblationTable table = new AblationTable(noValidation, List.of(0.9));
    assertThat(table.chosen()).isEmpty();
    assertThat(table.choice()).containsEntry("variant", null);
    assertThat(table.markdown()).contains("no cell is chosen");
  }

  @Test
  void aCellWithValidationOnSomeSeedsOnlyIsNotChosen() {
    List<CellResult> partial = List.of(
        new CellResult(SMALL_K, 1, "a-s1.k500", 0.84, 0.80, 0.9, 10, 0.95, 0.81),
        new CellResult(SMALL_K, 2, "a-s2.k500", 0.85, 0.82, 0.9, 10, Double.NaN, 0.83),
        new CellResult(LARGE_K, 1, "a-s1", 0.87, 0.80, 0.9, 10, 0.84, 0.81),
        new CellResult(LARGE_K, 2, "a-s2", 0.88, 0.82, 0.9, 10, 0.85, 0.83));
    assertThat(new AblationTable(partial, List.of()).chosen().orElseThrow().variant()).isEqualTo(LARGE_K);
  }
}
