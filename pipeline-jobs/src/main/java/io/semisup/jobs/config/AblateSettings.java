package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.choice;
import static io.semisup.jobs.config.Setting.choiceList;
import static io.semisup.jobs.config.Setting.flag;
import static io.semisup.jobs.config.Setting.intList;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.longList;
import static io.semisup.jobs.config.Setting.realList;
import static io.semisup.jobs.config.Setting.textList;

import io.semisup.core.model.Architectures;
import java.util.List;

/** The grid of {@code bin/semisup ablate}: seeds, axes and the values along each axis. */
public record AblateSettings(
    List<Long> seeds, List<String> axes, List<Integer> kValues, List<Integer> pValues, List<Double> poolFractions,
    List<Integer> roundsValues, List<Integer> teacherEpochsValues, List<String> teacherCells, List<String> cells, int finetuneEpochs, String smallStudent, boolean ceiling, List<String> ceilingSet) {

  /** The axes {@code io.semisup.jobs.ablate.AblationGrid} knows, in the order of its table. */
  public static final List<String> AXES = List.of("k", "p", "pool", "recipe", "arch", "mode", "rounds", "teacher", "cells");

  static final List<Setting> SCHEMA = List.of(
      longList("ablate.seeds", Range.ANY, "Seeds; each gets its own base run, cells and ceiling."),
      choiceList("ablate.axes", AXES, "Axes of the grid (mode: balanced top-K against one global threshold)."),
      intList("ablate.k-values", Range.atLeast(1), "select.k along the k axis."),
      intList("ablate.p-values", Range.atLeast(1), "select.p along the p axis."),
      realList("ablate.pool-fractions", Range.openClosed(0, 1), "select.pool-fraction along the pool axis."),
      intList("ablate.rounds-values", Range.atLeast(1),
          "Rounds of self-training along the rounds axis (round r > 1 is the run <base>.r<r>, as demo names it)."),
      intList("ablate.teacher-epochs-values", Range.atLeast(1),
          "teacher.epochs along the teacher axis: the teacher alone, trained and evaluated (is it converged?)."),
      textList("ablate.teacher-cells", "More cells of the teacher axis, any teacher lever: each \"key=value; key=value\""
          + " of teacher.* or model.* keys (e.g. \"teacher.epochs=150; teacher.augment-erase=0.5\"), trained alone."),
      textList("ablate.cells", "Cells of the cells axis, any lever: each \"key=value; key=value\" (e.g."
          + " \"student.labelled-repeat=10\"); rounds=R chains R rounds from it."),
      integer("ablate.finetune-epochs", Range.atLeast(0), "Fine-tune epochs of the recipe axis's fine-tuned cells."),
      choice("ablate.small-student", Architectures.names(), "The smaller student of the arch axis (trained from scratch)."),
      flag("ablate.ceiling", "Also train the reference ceiling: the teacher's architecture on all labels."),
      textList("ablate.ceiling-set", "key=value overrides that make the ceiling run."));

  public AblateSettings {
    seeds = List.copyOf(seeds);
    axes = List.copyOf(axes);
    kValues = List.copyOf(kValues);
    pValues = List.copyOf(pValues);
    poolFractions = List.copyOf(poolFractions);
    roundsValues = List.copyOf(roundsValues);
    teacherEpochsValues = List.copyOf(teacherEpochsValues);
    teacherCells = List.copyOf(teacherCells);
    cells = List.copyOf(cells);
    ceilingSet = List.copyOf(ceilingSet);
  }

  static AblateSettings from(SettingsReader r) {
    AblateSettings s = new AblateSettings(r.longListOf("ablate.seeds"), r.stringListOf("ablate.axes"),
        r.intListOf("ablate.k-values"), r.intListOf("ablate.p-values"), r.doubleListOf("ablate.pool-fractions"),
        r.intListOf("ablate.rounds-values"), r.intListOf("ablate.teacher-epochs-values"), r.stringListOf("ablate.teacher-cells"),
        r.stringListOf("ablate.cells"),
        r.intOf("ablate.finetune-epochs"), r.stringOf("ablate.small-student"), r.booleanOf("ablate.ceiling"),
        r.stringListOf("ablate.ceiling-set"));
    for (String override : s.ceilingSet) {
      if (!isOverride(override)) {
        throw r.crossKey("ablate.ceiling-set", "'" + override + "' is not key=value with a known key."
            + " Give overrides like teacher.epochs=30.");
      }
    }
    checkCells(r, "ablate.cells", s.cells, "\"student.labelled-repeat=10; student.epochs=12\"");
    checkCells(r, "ablate.teacher-cells", s.teacherCells, "\"teacher.epochs=150; teacher.augment-erase=0.5\"");
    for (String cell : s.teacherCells) {
      for (String override : cellOverrides(cell)) {
        // The teacher axis trains nothing after the teacher: any other key would change nothing.
        if (!keyOf(override).startsWith("teacher.") && !keyOf(override).startsWith("model.")) {
          throw r.crossKey("ablate.teacher-cells", "'" + override + "' of cell '" + cell + "' does not change"
              + " the teacher, which the teacher axis trains alone. Give teacher.* or model.* keys, or use ablate.cells.");
        }
      }
    }
    return s;
  }

  /** Fails on the first override of {@code cells} (entries of {@code key}) that is not key=value with a known key. */
  private static void checkCells(SettingsReader r, String key, List<String> cells, String example) {
    for (String cell : cells) {
      for (String override : cellOverrides(cell)) {
        if (!isOverride(override)) {
          throw r.crossKey(key, "'" + override + "' of cell '" + cell + "' is not key=value with a"
              + " known key. Give cells like " + example + ".");
        }
      }
    }
  }

  /** The key=value overrides of one entry of {@code ablate.cells} (separated by ';'). */
  public static List<String> cellOverrides(String cell) {
    return java.util.Arrays.stream(cell.split(";")).map(String::trim).filter(o -> !o.isEmpty()).toList();
  }

  /**
   * The key of a {@code key=value} override as the schema names it (trimmed, without a leading
   * {@code semisup.}); empty when there is no key.
   */
  public static String keyOf(String override) {
    int eq = override.indexOf('=');
    return eq > 0 ? override.substring(0, eq).trim().replaceFirst("^semisup\\.", "") : "";
  }

  /** The value of a {@code key=value} override, trimmed. */
  public static String valueOf(String override) {
    return override.substring(override.indexOf('=') + 1).trim();
  }

  private static boolean isOverride(String override) {
    String key = keyOf(override);
    return !key.isEmpty() && SettingsSchema.isKnown(key);
  }
}
