package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.choice;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.real;

import java.util.List;

/** Which scored images become pseudo-labels: top-K per class among each image's top-P classes. */
public record SelectSettings(int k, int p, double poolFraction, String mode, double threshold, int histogramBins) {

  static final List<Setting> SCHEMA = List.of(
      integer("select.k", Range.atLeast(1), "Images per class (the paper's K)."),
      integer("select.p", Range.atLeast(1), "Classes an image may be selected for (the paper's P; at most score.top-p)."),
      real("select.pool-fraction", Range.openClosed(0, 1), "Share of the scored pool selection may use (a seeded subset; 1.0 = all)."),
      choice("select.mode", List.of("balanced", "threshold"), "balanced: top-K per class (the paper's); threshold: one confidence threshold for all classes."),
      real("select.threshold", Range.closed(0, 1), "For mode = threshold: the score to reach (0: the one that keeps K x classes candidates)."),
      integer("select.histogram-bins", Range.atLeast(1), "Histogram bins per class for the threshold pass of scalable selection."));

  static SelectSettings from(SettingsReader r) {
    return new SelectSettings(r.intOf("select.k"), r.intOf("select.p"), r.doubleOf("select.pool-fraction"),
        r.stringOf("select.mode"), r.doubleOf("select.threshold"), r.intOf("select.histogram-bins"));
  }
}
