package io.semisup.jobs.ablate;

import io.semisup.jobs.config.AblateSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The ablations of Yalniz et al. (2019) at our scale, as grid cells: K (images per class), P
 * (classes per image), size of the unlabelled pool, the training recipe (fine-tuned or not;
 * pseudo-labels alone or with the labels), the student's architecture and initialisation, and
 * balanced top-K versus one global confidence threshold at the same number of pseudo-labels, and
 * the number of rounds of iterated self-training, the teacher's own epochs (trained and evaluated
 * alone); the "cells" axis holds any other lever as a list of overrides. Values come from {@code semisup.ablate}.
 */
public final class AblationGrid {

  /** Axes in the order of the table. */
  public static final List<String> AXES = AblateSettings.AXES;

  private AblationGrid() {}

  /** The cells of the named axes; the demo's default configuration appears on every axis. */
  public static List<Variant> cells(AblateSettings ablate, List<String> axes) {
    List<Variant> out = new ArrayList<>();
    for (String axis : axes) {
      switch (axis) {
        case "k" -> {
          for (int k : ablate.kValues()) {
            out.add(new Variant("k", "K=" + k, List.of("select.k=" + k), "finetuned", k));
          }
        }
        case "p" -> {
          // P can only matter once a class runs short of images that have it first, so it is
          // measured at the base K and again at the largest K of the K axis.
          List<Integer> ks = ablate.kValues();
          int kMax = ks.isEmpty() ? 0 : java.util.Collections.max(ks);
          for (int p : ablate.pValues()) {
            out.add(new Variant("p", "P=" + p, List.of("select.p=" + p), "finetuned", Double.NaN));
          }
          if (kMax > 0) {
            for (int p : ablate.pValues()) {
              out.add(new Variant("p", "P=" + p + ", K=" + kMax,
                  List.of("select.k=" + kMax, "select.p=" + p), "finetuned", Double.NaN));
            }
          }
        }
        case "pool" -> {
          for (double f : ablate.poolFractions()) {
            String label = String.format(Locale.ROOT, "%.0f%% of pool", 100 * f);
            List<String> o = f == 1.0 ? List.of() : List.of("select.pool-fraction=" + f);
            out.add(new Variant("pool", label, o, "finetuned", f));
          }
        }
        case "recipe" -> {
          // One run per student recipe, fine-tuned (the pipeline's default is no fine-tune): the
          // "not fine-tuned" cell reports the same run's student, so each student trains once.
          String finetune = "finetune.epochs=" + ablate.finetuneEpochs();
          List<String> pseudoOnly = List.of("student.with-labelled=false", finetune);
          List<String> together = List.of(finetune);
          out.add(new Variant("recipe", "pseudo-labels, then fine-tuned", pseudoOnly, "finetuned", Double.NaN));
          out.add(new Variant("recipe", "pseudo-labels, not fine-tuned", pseudoOnly, "student", Double.NaN));
          out.add(new Variant("recipe", "pseudo + labelled together, not fine-tuned", together, "student", Double.NaN));
          out.add(new Variant("recipe", "pseudo + labelled, then fine-tuned", together, "finetuned", Double.NaN));
        }
        case "arch" -> {
          out.add(new Variant("arch", "student = teacher (warm start)", List.of(), "finetuned", Double.NaN));
          out.add(new Variant("arch", "student = teacher arch, from scratch",
              List.of("student.init=scratch"), "finetuned", Double.NaN));
          out.add(new Variant("arch", "smaller student (" + ablate.smallStudent() + ", scratch)",
              List.of("student.init=scratch", "model.student-architecture=" + ablate.smallStudent()),
              "finetuned", Double.NaN));
        }
        case "mode" -> {
          out.add(new Variant("mode", "balanced: top-K per class", List.of(), "finetuned", Double.NaN));
          out.add(new Variant("mode", "global threshold, same number of images",
              List.of("select.mode=threshold"), "finetuned", Double.NaN));
        }
        case "rounds" -> {
          // Round r > 1 is taught by round r-1's fine-tuned student (Rounds); the cell reports
          // the last round's model, and rounds=1 is the base run.
          for (int r : ablate.roundsValues()) {
            out.add(new Variant("rounds", "rounds=" + r, List.of("rounds=" + r), "finetuned", r));
          }
        }
        case "teacher" -> {
          // The teacher alone: is the base's teacher.epochs converged? Its value is the base run.
          for (int e : ablate.teacherEpochsValues()) {
            out.add(new Variant("teacher", "teacher.epochs=" + e, List.of("teacher.epochs=" + e), "teacher", e));
          }
          // Any other teacher lever, labelled by its overrides.
          for (String cell : ablate.teacherCells()) {
            List<String> overrides = AblateSettings.cellOverrides(cell);
            out.add(new Variant("teacher", String.join("; ", overrides), overrides, "teacher", Double.NaN));
          }
        }
        case "cells" -> {
          // Any lever: each cell is the user's own list of overrides, labelled by itself.
          for (String cell : ablate.cells()) {
            out.add(new Variant("cells", String.join("; ", AblateSettings.cellOverrides(cell)),
                AblateSettings.cellOverrides(cell), "finetuned", Double.NaN));
          }
        }
        default -> throw new IllegalArgumentException(
            "Cannot run ablation axis '" + axis + "': known axes are " + AXES);
      }
    }
    return out;
  }
}
