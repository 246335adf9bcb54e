package io.semisup.jobs.ablate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;

/**
 * The ablation's results aggregated over seeds: per cell the mean and spread of top-1 on the test
 * and the validation split, the precision and the wall time, plus the reference rows (teacher,
 * all-labels ceiling) and the share of the teacher-to-ceiling gap each cell closes on the test
 * split, measured from the cell's own teacher where it trains one (a stronger teacher recipe is a
 * stronger supervised baseline, not a gain of self-training). The best cell is chosen on validation alone ({@link #chosen()}) and reported with its
 * test figure: the test split never chooses. Written as CSV (per seed and aggregated) and as the
 * Markdown table of docs/results.md.
 */
public final class AblationTable {

  /** Aggregate of one cell over its seeds. */
  /**
   * Aggregate of one cell over its seeds; {@code ownTeacherMean} is the test top-1 of the teacher
   * the cell trains itself (NaN when it shares the base's), the baseline of its {@code gapClosed}.
   */
  public record Row(Variant variant, int seeds, double top1Mean, double top1Std,
      double precisionMean, double secondsMean, double gapClosed, List<String> runIds,
      double validationMean, double validationStd, double ownTeacherMean) {}

  private final List<CellResult> results;
  private final SummaryStatistics teacher = new SummaryStatistics();
  private final SummaryStatistics ceiling = new SummaryStatistics();
  private final SummaryStatistics teacherValidation = new SummaryStatistics();
  private final SummaryStatistics ceilingValidation = new SummaryStatistics();
  private final List<Row> rows = new ArrayList<>();

  /**
   * @param results every cell and seed
   * @param ceilingTop1 test top-1 of the all-labels model per seed measured (may be empty)
   */
  public AblationTable(List<CellResult> results, List<Double> ceilingTop1) {
    this(results, ceilingTop1, List.of());
  }

  /**
   * @param results every cell and seed
   * @param ceilingTop1 test top-1 of the all-labels model per seed measured (may be empty)
   * @param ceilingValidationTop1 its validation top-1 per seed (may be empty)
   */
  public AblationTable(List<CellResult> results, List<Double> ceilingTop1, List<Double> ceilingValidationTop1) {
    this.results = List.copyOf(results);
    Map<Long, CellResult> teacherBySeed = new LinkedHashMap<>();
    for (CellResult r : results) {
      teacherBySeed.put(r.seed(), r);
    }
    for (CellResult r : teacherBySeed.values()) {
      teacher.addValue(r.teacherTop1());
      addIfMeasured(teacherValidation, r.teacherValidationTop1());
    }
    ceilingTop1.forEach(ceiling::addValue);
    ceilingValidationTop1.forEach(v -> addIfMeasured(ceilingValidation, v));
    Map<Variant, List<CellResult>> byCell = new LinkedHashMap<>();
    for (CellResult r : results) {
      byCell.computeIfAbsent(r.variant(), v -> new ArrayList<>()).add(r);
    }
    for (Map.Entry<Variant, List<CellResult>> e : byCell.entrySet()) {
      SummaryStatistics top1 = new SummaryStatistics();
      SummaryStatistics validation = new SummaryStatistics();
      SummaryStatistics precision = new SummaryStatistics();
      SummaryStatistics seconds = new SummaryStatistics();
      SummaryStatistics ownTeacher = new SummaryStatistics();
      List<String> runs = new ArrayList<>();
      for (CellResult r : e.getValue()) {
        top1.addValue(r.top1());
        addIfMeasured(ownTeacher, r.ownTeacherTop1());
        addIfMeasured(validation, r.validationTop1());
        if (!Double.isNaN(r.precision())) {
          precision.addValue(r.precision());
        }
        seconds.addValue(r.seconds());
        runs.add(r.runId());
      }
      // A mean over fewer seeds than the test figure would not compare: all or nothing.
      double own = ownTeacher.getN() == top1.getN() ? ownTeacher.getMean() : Double.NaN;
      rows.add(new Row(e.getKey(), (int) top1.getN(), top1.getMean(), spread(top1),
          precision.getN() == 0 ? Double.NaN : precision.getMean(), seconds.getMean(),
          Double.isNaN(own) ? gapClosed(top1.getMean()) : gapClosed(top1.getMean(), own), runs,
          validation.getN() == top1.getN() ? validation.getMean() : Double.NaN,
          validation.getN() == top1.getN() ? spread(validation) : Double.NaN, own));
    }
  }

  private static void addIfMeasured(SummaryStatistics s, double v) {
    if (!Double.isNaN(v)) {
      s.addValue(v);
    }
  }

  /**
   * The cell of highest mean validation top-1 (the first in grid order on a tie), empty when no
   * cell has validation figures. Its test figure is what the ablation reports; the test figures
   * of the other cells play no part in the choice.
   */
  public java.util.Optional<Row> chosen() {
    Row best = null;
    for (Row r : rows) {
      if (!Double.isNaN(r.validationMean()) && (best == null || r.validationMean() > best.validationMean())) {
        best = r;
      }
    }
    return java.util.Optional.ofNullable(best);
  }

  /** NaN when no teacher has a validation figure. */
  public double teacherValidationMean() {
    return teacherValidation.getN() == 0 ? Double.NaN : teacherValidation.getMean();
  }

  /** NaN when no ceiling has a validation figure. */
  public double ceilingValidationMean() {
    return ceilingValidation.getN() == 0 ? Double.NaN : ceilingValidation.getMean();
  }

  /** The choice as JSON fields: what was chosen, on which split, and its figures. */
  public Map<String, Object> choice() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("chosen_on", "validation");
    m.put("reported_on", "test");
    chosen().ifPresentOrElse(r -> {
      m.put("axis", r.variant().axis());
      m.put("variant", r.variant().label());
      m.put("model", r.variant().model());
      m.put("overrides", r.variant().overrides());
      m.put("seeds", r.seeds());
      m.put("validation_top1", r.validationMean());
      m.put("test_top1", r.top1Mean());
      m.put("test_top1_std", Double.isNaN(r.top1Std()) ? null : r.top1Std());
      m.put("gap_closed", Double.isNaN(r.gapClosed()) ? null : r.gapClosed());
      m.put("own_teacher_test_top1", Double.isNaN(r.ownTeacherMean()) ? null : r.ownTeacherMean());
    }, () -> m.put("variant", null));
    m.put("teacher_test_top1", teacher.getMean());
    m.put("teacher_validation_top1", Double.isNaN(teacherValidationMean()) ? null : teacherValidationMean());
    m.put("ceiling_test_top1", Double.isNaN(ceilingMean()) ? null : ceilingMean());
    m.put("ceiling_validation_top1", Double.isNaN(ceilingValidationMean()) ? null : ceilingValidationMean());
    return m;
  }

  private static double spread(SummaryStatistics s) {
    return s.getN() > 1 ? s.getStandardDeviation() : Double.NaN;
  }

  /** (top1 - teacher) / (ceiling - teacher) from the base teacher, NaN without a ceiling. */
  public double gapClosed(double top1) {
    return teacher.getN() == 0 ? Double.NaN : gapClosed(top1, teacher.getMean());
  }

  /** (top1 - baseline) / (ceiling - baseline), NaN without a ceiling. */
  private double gapClosed(double top1, double baseline) {
    if (ceiling.getN() == 0) {
      return Double.NaN;
    }
    return (top1 - baseline) / (ceiling.getMean() - baseline);
  }

  public List<Row> rows() {
    return rows;
  }

  public double teacherMean() {
    return teacher.getMean();
  }

  /** NaN when no ceiling was measured. */
  public double ceilingMean() {
    return ceiling.getN() == 0 ? Double.NaN : ceiling.getMean();
  }

  /** Rows of one axis, in grid order. */
  public List<Row> axis(String axis) {
    return rows.stream().filter(r -> r.variant().axis().equals(axis)).toList();
  }

  /** One line per cell and seed. */
  public String perSeedCsv() {
    StringBuilder sb = new StringBuilder(
        "axis,variant,model,seed,run_id,top1,teacher_top1,precision,seconds,validation_top1,teacher_validation_top1\n");
    for (CellResult r : results) {
      sb.append(String.format(Locale.ROOT, "%s,\"%s\",%s,%d,%s,%.4f,%.4f,%s,%.0f,%s,%s%n",
          r.variant().axis(), r.variant().label(), r.variant().model(), r.seed(), r.runId(),
          r.top1(), r.teacherTop1(), num(r.precision(), 4), r.seconds(), num(r.validationTop1(), 4),
          num(r.teacherValidationTop1(), 4)));
    }
    return sb.toString();
  }

  /**
   * One line per cell, aggregated over seeds, reference rows first; top1 is the test split's,
   * validation_top1 the figure {@code chosen} marks the chosen cell by.
   */
  public String csv() {
    StringBuilder sb = new StringBuilder(
        "axis,variant,model,seeds,top1_mean,top1_std,precision,seconds,gap_closed,validation_top1_mean,validation_top1_std,chosen,own_teacher_top1\n");
    sb.append(String.format(Locale.ROOT, "reference,teacher (labelled only),teacher,%d,%.4f,%s,,,0,%s,%s,,%n",
        teacher.getN(), teacher.getMean(), num(spread(teacher), 4), num(teacherValidationMean(), 4),
        num(spread(teacherValidation), 4)));
    if (ceiling.getN() > 0) {
      sb.append(String.format(Locale.ROOT, "reference,ceiling (all labels),teacher,%d,%.4f,%s,,,1,%s,%s,,%n",
          ceiling.getN(), ceiling.getMean(), num(spread(ceiling), 4), num(ceilingValidationMean(), 4),
          num(spread(ceilingValidation), 4)));
    }
    Row chosen = chosen().orElse(null);
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "%s,\"%s\",%s,%d,%.4f,%s,%s,%.0f,%s,%s,%s,%s,%s%n",
          r.variant().axis(), r.variant().label(), r.variant().model(), r.seeds(), r.top1Mean(),
          num(r.top1Std(), 4), num(r.precisionMean(), 4), r.secondsMean(), num(r.gapClosed(), 3),
          num(r.validationMean(), 4), num(r.validationStd(), 4), r == chosen ? "true" : "false",
          num(r.ownTeacherMean(), 4)));
    }
    return sb.toString();
  }

  /**
   * The table as Markdown, percentages with the spread over seeds: validation top-1 (what the
   * choice is made on) beside test top-1 (what is reported), and a closing line naming the cell
   * chosen on validation with its test figure.
   */
  public String markdown() {
    StringBuilder sb = new StringBuilder(
        "| axis | variant | validation top-1 (%) | test top-1 (%) | seeds | pseudo-label precision (%) | wall time (s) | gap closed (test) |\n"
            + "|---|---|---|---|---|---|---|---|\n");
    sb.append(String.format(Locale.ROOT, "| reference | teacher (labelled only) | %s | %s | %d | | | 0%% |%n",
        pctOrEmpty(teacherValidationMean(), spread(teacherValidation)), pct(teacher.getMean(), spread(teacher)),
        teacher.getN()));
    if (ceiling.getN() > 0) {
      sb.append(String.format(Locale.ROOT, "| reference | ceiling (all labels) | %s | %s | %d | | | 100%% |%n",
          pctOrEmpty(ceilingValidationMean(), spread(ceilingValidation)), pct(ceiling.getMean(), spread(ceiling)),
          ceiling.getN()));
    }
    Row chosen = chosen().orElse(null);
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %d | %s | %.0f | %s |%n",
          r.variant().axis(), (r == chosen ? "**" : "") + r.variant().label()
              + (r.variant().model().equals("student") ? " (student)" : "") + (r == chosen ? "** (chosen)" : ""),
          pctOrEmpty(r.validationMean(), r.validationStd()), pct(r.top1Mean(), r.top1Std()), r.seeds(),
          Double.isNaN(r.precisionMean()) ? "" : String.format(Locale.ROOT, "%.1f", 100 * r.precisionMean()),
          r.secondsMean(),
          gapCell(r)));
    }
    sb.append('\n');
    if (chosen == null) {
      sb.append("No cell has validation figures (runs without a validation split): no cell is chosen.\n");
    } else {
      sb.append(String.format(Locale.ROOT,
          "Chosen on validation: %s %s, validation top-1 %.2f%%; its test top-1 %s%%%s. The test split chose nothing.%n",
          chosen.variant().axis(), chosen.variant().label(), 100 * chosen.validationMean(),
          pct(chosen.top1Mean(), chosen.top1Std()),
          Double.isNaN(chosen.gapClosed()) ? ""
              : String.format(Locale.ROOT, ", %.1f%% of the teacher-to-ceiling gap%s", 100 * chosen.gapClosed(),
                  Double.isNaN(chosen.ownTeacherMean()) ? ""
                      : String.format(Locale.ROOT, " from its own teacher (%.2f%%)", 100 * chosen.ownTeacherMean()))));
    }
    return sb.toString();
  }

  private static String gapCell(Row r) {
    if (Double.isNaN(r.gapClosed())) {
      return "";
    }
    String gap = String.format(Locale.ROOT, "%.0f%%", 100 * r.gapClosed());
    return Double.isNaN(r.ownTeacherMean()) ? gap
        : String.format(Locale.ROOT, "%s from its own teacher (%.2f%%)", gap, 100 * r.ownTeacherMean());
  }

    private static String pctOrEmpty(double mean, double std) {
    return Double.isNaN(mean) ? "" : pct(mean, std);
  }

  private static String pct(double mean, double std) {
    return Double.isNaN(std)
        ? String.format(Locale.ROOT, "%.2f", 100 * mean)
        : String.format(Locale.ROOT, "%.2f ± %.2f", 100 * mean, 100 * std);
  }

  private static String num(double v, int digits) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%." + digits + "f", v);
  }
}
