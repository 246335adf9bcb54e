package io.semisup.jobs.inspect;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The model of the {@code histogram} template: bars of counts over [0, 1] in equal bins, axis
 * ticks, and optionally a class's threshold as a dashed line. The geometry is computed here, the
 * markup lives in the template.
 */
final class HistogramSvg {

  private static final int WIDTH = 520;
  private static final int HEIGHT = 160;
  private static final int LEFT = 40;
  private static final int BOTTOM = 20;

  private HistogramSvg() {}

  /** Template scope for {@code counts}; {@code threshold} in [0, 1] or null for none. */
  static Map<String, Object> model(String label, long[] counts, Float threshold) {
    long max = 1;
    for (long c : counts) {
      max = Math.max(max, c);
    }
    double bar = (double) (WIDTH - LEFT) / counts.length;
    List<Map<String, Object>> bars = new ArrayList<>();
    for (int i = 0; i < counts.length; i++) {
      double bh = (HEIGHT - 10) * (double) counts[i] / max;
      bars.add(Map.of(
          "x", f(LEFT + i * bar + 1), "y", f(HEIGHT - bh), "w", f(Math.max(1, bar - 2)), "h", f(bh),
          "title", String.format(Locale.ROOT, "%.2f-%.2f: %d", (double) i / counts.length, (double) (i + 1) / counts.length, counts[i])));
    }
    List<Map<String, Object>> ticks = new ArrayList<>();
    for (int t = 0; t <= 4; t++) {
      ticks.add(Map.of("x", f(LEFT + t * (WIDTH - LEFT) / 4.0), "y", HEIGHT + 15, "label", String.format(Locale.ROOT, "%.2f", t / 4.0)));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("label", label);
    m.put("svgWidth", WIDTH + 20);
    m.put("svgHeight", HEIGHT + BOTTOM);
    m.put("left", LEFT);
    m.put("width", WIDTH);
    m.put("height", HEIGHT);
    m.put("max", max);
    m.put("bars", bars);
    m.put("ticks", ticks);
    if (threshold == null) {
      m.put("threshold", false);
    } else {
      double x = LEFT + threshold * (WIDTH - LEFT);
      m.put("threshold", Map.of("x", f(x), "labelX", f(Math.min(x + 4, WIDTH - 90)), "value",
          String.format(Locale.ROOT, "%.4f", threshold)));
    }
    return m;
  }

  private static String f(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }
}
