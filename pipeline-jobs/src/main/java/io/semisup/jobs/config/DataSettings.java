package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.flag;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.path;
import static io.semisup.jobs.config.Setting.real;

import java.util.List;

/**
 * Inputs: the Fashion-MNIST import and the folders or listing the shard stage reads.
 *
 * <p>Two held-out splits, never mixed up: {@code val} ({@code data.val-dir}, {@code --test}) is the
 * <em>test</em> split that results are reported on (Fashion-MNIST's 10,000 test images; ImageNet
 * calls its test set "val"); {@code validation} ({@code data.validation-*}) is carved from
 * training data and is the only split whose labels may choose settings.
 */
public record DataSettings(
    String fashionMnistDir, int labelledPerClass, int unlabelledLimit, int valLimit, int validationSize,
    String trainDir, String valDir, String validationDir, double validationFraction, String unlabelledDir, String unlabelledListing, String hiddenLabels,
    boolean allowEmptyUnlabelled, String classNames) {

  static final List<Setting> SCHEMA = List.of(
      path("data.fashion-mnist-dir", "Folder of the four Fashion-MNIST IDX .gz files (Debian package dataset-fashion-mnist)."),
      integer("data.labelled-per-class", Range.atLeast(1), "Labelled images per class taken from the 60,000 training images; the rest become unlabelled."),
      integer("data.unlabelled-limit", Range.atLeast(0), "Cap on unlabelled images imported (0 = all)."),
      integer("data.val-limit", Range.atLeast(0), "Cap on test images imported as the test split val/ (0 = all 10,000)."),
      integer("data.validation-size", Range.atLeast(0), "Pool images the import carves out (seeded, removed from the pool) as the validation split, whose labels only choose settings (0 = none)."),
      path("data.train-dir", "Labelled training images in ImageNet layout (<dir>/<class>/<file>); empty: the import's output."),
      path("data.val-dir", "Test images in ImageNet layout (the split results are reported on, never chosen on; ImageNet's \"val\"); empty: the import's output."),
      path("data.validation-dir", "Validation images in ImageNet layout, to choose settings on (never the test split); empty: data.validation-fraction of the labelled images, else the import's validation folder."),
      real("data.validation-fraction", Range.closedOpen(0, 1), "Without data.validation-dir: share of each class's labelled images shard moves (seeded) into the validation split, out of training (0 = none)."),
      path("data.unlabelled-dir", "Any tree of unlabelled images; empty: the import's output."),
      path("data.unlabelled-listing", "Text file with one unlabelled image URI per line (wins over unlabelled-dir)."),
      path("data.hidden-labels", "True classes of unlabelled images, only to measure pseudo-label precision: TSV or CSV of <path relative to the unlabelled folder, or full URI> and <class folder name>, header optional; empty: the import's file."),
      flag("data.allow-empty-unlabelled", "Let shard commit an empty unlabelled split (else an error naming the folder)."),
      path("data.class-names", "Optional readable class names, one <class folder name><TAB><name> per line (e.g. ImageNet's synsets), shown in the report and exported."));

  static DataSettings from(SettingsReader r) {
    return new DataSettings(r.stringOf("data.fashion-mnist-dir"), r.intOf("data.labelled-per-class"),
        r.intOf("data.unlabelled-limit"), r.intOf("data.val-limit"), r.intOf("data.validation-size"),
        r.stringOf("data.train-dir"), r.stringOf("data.val-dir"), r.stringOf("data.validation-dir"),
        r.doubleOf("data.validation-fraction"), r.stringOf("data.unlabelled-dir"), r.stringOf("data.unlabelled-listing"),
        r.stringOf("data.hidden-labels"), r.booleanOf("data.allow-empty-unlabelled"), r.stringOf("data.class-names"));
  }

  /** Whether the shard stage reads the import stage's output (some input folder is not given). */
  public boolean usesImport() {
    return trainDir.isEmpty() || valDir.isEmpty() || (unlabelledDir.isEmpty() && unlabelledListing.isEmpty());
  }
}
