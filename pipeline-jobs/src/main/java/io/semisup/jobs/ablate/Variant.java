package io.semisup.jobs.ablate;

import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * One cell of the ablation grid: a point on one axis, the configuration overrides that make it,
 * and which model of the run the cell reports ({@code finetuned} or {@code student}: "not
 * fine-tuned" is the same run's student, so it costs no extra training; {@code teacher}: the
 * cell trains and evaluates the teacher alone).
 *
 * @param axis the axis the cell belongs to (k, p, pool, recipe, arch, mode, rounds, teacher, cells)
 * @param label what the cell shows, e.g. {@code K=1000}
 * @param overrides {@code key=value} settings on top of the ablation's configuration
 * @param model key of metrics.json whose top-1 the cell reports
 * @param x numeric position on the axis for curves (K, P, pool fraction), NaN for categories
 */
public record Variant(String axis, String label, List<String> overrides, String model, double x) {

  public Variant {
    overrides = List.copyOf(overrides);
    if (!model.equals("finetuned") && !model.equals("student") && !model.equals("teacher")) {
      throw new IllegalArgumentException("Cannot report model '" + model + "': use finetuned, student or teacher");
    }
  }

  /** True for a cell that trains and evaluates the teacher alone (no pseudo-labels, no student). */
  public boolean teacherOnly() {
    return model.equals("teacher");
  }

  /** Same overrides in any order give the same key: such cells share one pipeline run. */
  public String runKey() {
    return String.join(",", new TreeSet<>(overrides));
  }

  /** A run-id suffix naming the cell's run (letters, digits, '-', '.'). */
  public String slug() {
    return (axis + "-" + label).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.]+", "-")
        .replaceAll("(^-+|-+$)", "");
  }
}
