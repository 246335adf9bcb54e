package io.semisup.jobs.ablate;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.text.NumberFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.Plot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.StatisticalBarRenderer;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.Range;
import org.jfree.data.statistics.DefaultStatisticalCategoryDataset;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * PNG charts of the ablation table (JFreeChart, headless): a curve per numeric axis (K, P, pool
 * size) with the spread over seeds as error bars, bars for the categorical axes, and the teacher
 * and ceiling as horizontal lines, so a reader sees at a glance where each cell lands between them.
 */
public final class AblationPlots {

  private static final int WIDTH = 800;
  private static final int HEIGHT = 500;

  private AblationPlots() {}

  /** File name -> PNG bytes, one chart per axis present in the table. */
  public static Map<String, byte[]> render(AblationTable table) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (String axis : AblationGrid.AXES) {
      List<AblationTable.Row> rows = table.axis(axis);
      if (rows.isEmpty()) {
        continue;
      }
      boolean numeric = rows.stream().allMatch(r -> !Double.isNaN(r.variant().x()));
      JFreeChart chart = numeric ? curve(axis, rows) : bars(axis, rows);
      addReferences(chart.getPlot(), table);
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      ChartUtils.writeChartAsPNG(png, chart, WIDTH, HEIGHT);
      out.put(axis + ".png", png.toByteArray());
    }
    return out;
  }

  private static String title(String axis) {
    return switch (axis) {
      case "k" -> "Fine-tuned student top-1 vs K (images per class)";
      case "p" -> "Fine-tuned student top-1 vs P (classes per image)";
      case "pool" -> "Fine-tuned student top-1 vs share of the unlabelled pool";
      case "recipe" -> "Training recipe";
      case "arch" -> "Student architecture and initialisation";
      case "mode" -> "Balanced top-K versus one global confidence threshold";
      case "rounds" -> "Last round's student top-1 vs rounds of self-training";
      case "teacher" -> "Teacher top-1 (labelled images only) vs its epochs";
      case "cells" -> "Other levers";
      default -> axis;
    };
  }

  private static JFreeChart curve(String axis, List<AblationTable.Row> rows) {
    YIntervalSeries top1 = new YIntervalSeries(axis.equals("teacher") ? "teacher" : "fine-tuned student");
    YIntervalSeries precision = new YIntervalSeries("pseudo-label precision");
    for (AblationTable.Row r : rows) {
      double m = 100 * r.top1Mean();
      double s = Double.isNaN(r.top1Std()) ? 0 : 100 * r.top1Std();
      top1.add(r.variant().x(), m, m - s, m + s);
      if (!Double.isNaN(r.precisionMean())) {
        double p = 100 * r.precisionMean();
        precision.add(r.variant().x(), p, p, p);
      }
    }
    YIntervalSeriesCollection data = new YIntervalSeriesCollection();
    data.addSeries(top1);
    data.addSeries(precision);
    String xLabel = switch (axis) {
      case "k" -> "K (images per class, log scale)";
      case "p" -> "P";
      case "rounds" -> "rounds of self-training";
      default -> "share of the unlabelled pool";
    };
    JFreeChart chart = ChartFactory.createXYLineChart(
        title(axis), xLabel, "percent", data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    XYErrorRenderer renderer = new XYErrorRenderer();
    renderer.setDrawXError(false);
    renderer.setDefaultLinesVisible(true);
    renderer.setDefaultShapesVisible(true);
    plot.setRenderer(renderer);
    if (axis.equals("k")) {
      // Decade ticks labelled 500, 1,000, 2,000... (LogAxis would print 10^2.70).
      LogarithmicAxis k = new LogarithmicAxis(xLabel);
      k.setStrictValuesFlag(false);
      k.setNumberFormatOverride(NumberFormat.getIntegerInstance(Locale.ROOT));
      plot.setDomainAxis(k);
    }
    ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
    plot.setBackgroundPaint(Color.WHITE);
    return chart;
  }

  private static JFreeChart bars(String axis, List<AblationTable.Row> rows) {
    DefaultStatisticalCategoryDataset data = new DefaultStatisticalCategoryDataset();
    for (AblationTable.Row r : rows) {
      String label = r.variant().label();
      double s = Double.isNaN(r.top1Std()) ? 0 : 100 * r.top1Std();
      data.add(100 * r.top1Mean(), s, "top-1", label);
    }
    JFreeChart chart = ChartFactory.createLineChart(
        title(axis), "", "top-1 (%)", data, PlotOrientation.VERTICAL, false, false, false);
    CategoryPlot plot = chart.getCategoryPlot();
    StatisticalBarRenderer renderer = new StatisticalBarRenderer();
    renderer.setErrorIndicatorPaint(Color.BLACK);
    plot.setRenderer(renderer);
    plot.getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_45);
    NumberAxis range = (NumberAxis) plot.getRangeAxis();
    range.setAutoRangeIncludesZero(false);
    plot.setBackgroundPaint(Color.WHITE);
    return chart;
  }

  private static void addReferences(Plot plot, AblationTable table) {
    ValueMarker teacher = marker(100 * table.teacherMean(), "teacher", new Color(200, 60, 60));
    ValueMarker ceiling = Double.isNaN(table.ceilingMean()) ? null
        : marker(100 * table.ceilingMean(), "ceiling (all labels)", new Color(60, 140, 60));
    // Markers do not widen an axis: stretch it so both lines show even when every cell is above them.
    ValueAxis axis = plot instanceof XYPlot xy0 ? xy0.getRangeAxis() : ((CategoryPlot) plot).getRangeAxis();
    Range r = axis.getRange();
    double lo = Math.min(r.getLowerBound(), teacher.getValue() - 0.5);
    double hi = Math.max(r.getUpperBound(), (ceiling == null ? teacher : ceiling).getValue() + 0.5);
    axis.setRange(lo, hi);
    if (plot instanceof XYPlot xy) {
      xy.addRangeMarker(teacher);
      if (ceiling != null) {
        xy.addRangeMarker(ceiling);
      }
    } else if (plot instanceof CategoryPlot cat) {
      cat.addRangeMarker(teacher);
      if (ceiling != null) {
        cat.addRangeMarker(ceiling);
      }
    }
  }

  private static ValueMarker marker(double value, String label, Color color) {
    ValueMarker m = new ValueMarker(value);
    m.setPaint(color);
    m.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10,
        new float[] {6, 4}, 0));
    m.setLabel(label);
    m.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
    m.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
    return m;
  }
}
