package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.integer;

import java.util.List;

/** The report stage's HTML page (they change the report only, which is its result). */
public record ReportSettings(int imagesPerClass, int thumbnailSize, int histogramBins, int borderlinePerClass,
    int wrongPerClass, int topConfusions) {

  static final List<Setting> SCHEMA = List.of(
      integer("report.images-per-class", Range.atLeast(1), "Top-ranked selected images shown per class in the contact sheet."),
      integer("report.thumbnail-size", Range.atLeast(1), "Thumbnail side in pixels."),
      integer("report.histogram-bins", Range.atLeast(1), "Bins of the score histograms."),
      integer("report.borderline-per-class", Range.atLeast(0), "Images shown on each side of a class's threshold (lowest selected, best not selected) on its page."),
      integer("report.wrong-per-class", Range.atLeast(0), "Most confident wrong pseudo-labels shown per class where true labels are known."),
      integer("report.top-confusions", Range.atLeast(0), "Most frequent (assigned, true) class pairs listed on the index page where true labels are known."));

  static ReportSettings from(SettingsReader r) {
    return new ReportSettings(r.intOf("report.images-per-class"), r.intOf("report.thumbnail-size"),
        r.intOf("report.histogram-bins"), r.intOf("report.borderline-per-class"), r.intOf("report.wrong-per-class"),
        r.intOf("report.top-confusions"));
  }
}
