package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.integer;

import java.util.List;

/** The report stage's HTML page (they change the report only, which is its result). */
public record ReportSettings(int imagesPerClass, int thumbnailSize, int histogramBins) {

  static final List<Setting> SCHEMA = List.of(
      integer("report.images-per-class", Range.atLeast(1), "Top-ranked selected images shown per class in the contact sheet."),
      integer("report.thumbnail-size", Range.atLeast(1), "Thumbnail side in pixels."),
      integer("report.histogram-bins", Range.atLeast(1), "Bins of the score histograms."));

  static ReportSettings from(SettingsReader r) {
    return new ReportSettings(r.intOf("report.images-per-class"), r.intOf("report.thumbnail-size"),
        r.intOf("report.histogram-bins"));
  }
}
