package io.semisup.jobs.ablate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;

/**
 * The ablation's results aggregated over seeds: per cell the mean and spread of top-1, the
 * precision and the wall time, plus the reference rows (teacher, all-labels ceiling) and the
 * share of the teacher-to-ceiling gap each cell closes. Written as CSV (per seed and aggregated)
 * and as the Markdown table of docs/results.md.
 */
public final class AblationTable {

  /** Aggregate of one cell over its seeds. */
  public record Row(Variant variant, int seeds, double top1Mean, double top1Std,
      double precisionMean, double secondsMean, double gapClosed, List<String> runIds) {}

  private final List<CellResult> results;
  private final SummaryStatistics teacher = new SummaryStatistics();
  private final SummaryStatistics ceiling = new SummaryStatistics();
  private final List<Row> rows = new ArrayList<>();

  /**
   * @param results every cell and seed
   * @param ceilingTop1 top-1 of the all-labels model per seed measured (may be empty)
   */
  public AblationTable(List<CellResult> results, List<Double> ceilingTop1) {
    this.results = List.copyOf(results);
    Map<Long, Double> teacherBySeed = new LinkedHashMap<>();
    for (CellResult r : results) {
      teacherBySeed.put(r.seed(), r.teacherTop1());
    }
    teacherBySeed.values().forEach(teacher::addValue);
    ceilingTop1.forEach(ceiling::addValue);
    Map<Variant, List<CellResult>> byCell = new LinkedHashMap<>();
    for (CellResult r : results) {
      byCell.computeIfAbsent(r.variant(), v -> new ArrayList<>()).add(r);
    }
    for (Map.Entry<Variant, List<CellResult>> e : byCell.entrySet()) {
      SummaryStatistics top1 = new SummaryStatistics();
      SummaryStatistics precision = new SummaryStatistics();
      SummaryStatistics seconds = new SummaryStatistics();
      List<String> runs = new ArrayList<>();
      for (CellResult r : e.getValue()) {
        top1.addValue(r.top1());
        if (!Double.isNaN(r.precision())) {
          precision.addValue(r.precision());
        }
        seconds.addValue(r.seconds());
        runs.add(r.runId());
      }
      rows.add(new Row(e.getKey(), (int) top1.getN(), top1.getMean(), spread(top1),
          precision.getN() == 0 ? Double.NaN : precision.getMean(), seconds.getMean(),
          gapClosed(top1.getMean()), runs));
    }
  }

  private static double spread(SummaryStatistics s) {
    return s.getN() > 1 ? s.getStandardDeviation() : Double.NaN;
  }

  /** (top1 - teacher) / (ceiling - teacher), NaN without a ceiling. */
  public double gapClosed(double top1) {
    if (ceiling.getN() == 0 || teacher.getN() == 0) {
      return Double.NaN;
    }
    return (top1 - teacher.getMean()) / (ceiling.getMean() - teacher.getMean());
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
    StringBuilder sb = new StringBuilder("axis,variant,model,seed,run_id,top1,teacher_top1,precision,seconds\n");
    for (CellResult r : results) {
      sb.append(String.format(Locale.ROOT, "%s,\"%s\",%s,%d,%s,%.4f,%.4f,%s,%.0f%n",
          r.variant().axis(), r.variant().label(), r.variant().model(), r.seed(), r.runId(),
          r.top1(), r.teacherTop1(), num(r.precision(), 4), r.seconds()));
    }
    return sb.toString();
  }

  /** One line per cell, aggregated over seeds, reference rows first. */
  public String csv() {
    StringBuilder sb = new StringBuilder(
        "axis,variant,model,seeds,top1_mean,top1_std,precision,seconds,gap_closed\n");
    sb.append(String.format(Locale.ROOT, "reference,teacher (labelled only),teacher,%d,%.4f,%s,,,0%n",
        teacher.getN(), teacher.getMean(), num(spread(teacher), 4)));
    if (ceiling.getN() > 0) {
      sb.append(String.format(Locale.ROOT, "reference,ceiling (all labels),teacher,%d,%.4f,%s,,,1%n",
          ceiling.getN(), ceiling.getMean(), num(spread(ceiling), 4)));
    }
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "%s,\"%s\",%s,%d,%.4f,%s,%s,%.0f,%s%n",
          r.variant().axis(), r.variant().label(), r.variant().model(), r.seeds(), r.top1Mean(),
          num(r.top1Std(), 4), num(r.precisionMean(), 4), r.secondsMean(), num(r.gapClosed(), 3)));
    }
    return sb.toString();
  }

  /** The table as Markdown, percentages with the spread over seeds. */
  public String markdown() {
    StringBuilder sb = new StringBuilder(
        "| axis | variant | top-1 (%) | seeds | pseudo-label precision (%) | wall time (s) | gap closed |\n"
            + "|---|---|---|---|---|---|---|\n");
    sb.append(String.format(Locale.ROOT, "| reference | teacher (labelled only) | %s | %d | | | 0%% |%n",
        pct(teacher.getMean(), spread(teacher)), teacher.getN()));
    if (ceiling.getN() > 0) {
      sb.append(String.format(Locale.ROOT, "| reference | ceiling (all labels) | %s | %d | | | 100%% |%n",
          pct(ceiling.getMean(), spread(ceiling)), ceiling.getN()));
    }
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %s | %.0f | %s |%n",
          r.variant().axis(), r.variant().label()
              + (r.variant().model().equals("student") ? " (student)" : ""),
          pct(r.top1Mean(), r.top1Std()), r.seeds(),
          Double.isNaN(r.precisionMean()) ? "" : String.format(Locale.ROOT, "%.1f", 100 * r.precisionMean()),
          r.secondsMean(),
          Double.isNaN(r.gapClosed()) ? "" : String.format(Locale.ROOT, "%.0f%%", 100 * r.gapClosed())));
    }
    return sb.toString();
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
