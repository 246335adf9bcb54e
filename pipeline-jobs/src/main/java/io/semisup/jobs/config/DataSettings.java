package io.semisup.jobs.config;

import static io.semisup.jobs.config.Setting.flag;
import static io.semisup.jobs.config.Setting.integer;
import static io.semisup.jobs.config.Setting.path;

import java.util.List;

/** Inputs: the Fashion-MNIST import and the folders or listing the shard stage reads. */
public record DataSettings(
    String fashionMnistDir, int labelledPerClass, int unlabelledLimit, int valLimit, String trainDir,
    String valDir, String unlabelledDir, String unlabelledListing, String hiddenLabels,
    boolean allowEmptyUnlabelled, String classNames) {

  static final List<Setting> SCHEMA = List.of(
      path("data.fashion-mnist-dir", "Folder of the four Fashion-MNIST IDX .gz files (Debian package dataset-fashion-mnist)."),
      integer("data.labelled-per-class", Range.atLeast(1), "Labelled images per class taken from the 60,000 training images; the rest become unlabelled."),
      integer("data.unlabelled-limit", Range.atLeast(0), "Cap on unlabelled images imported (0 = all)."),
      integer("data.val-limit", Range.atLeast(0), "Cap on test images imported as the evaluation split (0 = all 10,000)."),
      path("data.train-dir", "Labelled training images in ImageNet layout (<dir>/<class>/<file>); empty: the import's output."),
      path("data.val-dir", "Evaluation images in ImageNet layout; empty: the import's output."),
      path("data.unlabelled-dir", "Any tree of unlabelled images; empty: the import's output."),
      path("data.unlabelled-listing", "Text file with one unlabelled image URI per line (wins over unlabelled-dir)."),
      path("data.hidden-labels", "True classes of unlabelled images, only to measure pseudo-label precision: TSV or CSV of <path relative to the unlabelled folder, or full URI> and <class folder name>, header optional; empty: the import's file."),
      flag("data.allow-empty-unlabelled", "Let shard commit an empty unlabelled split (else an error naming the folder)."),
      path("data.class-names", "Optional readable class names, one <class folder name><TAB><name> per line (e.g. ImageNet's synsets), shown in the report and exported."));

  static DataSettings from(SettingsReader r) {
    return new DataSettings(r.stringOf("data.fashion-mnist-dir"), r.intOf("data.labelled-per-class"),
        r.intOf("data.unlabelled-limit"), r.intOf("data.val-limit"), r.stringOf("data.train-dir"),
        r.stringOf("data.val-dir"), r.stringOf("data.unlabelled-dir"), r.stringOf("data.unlabelled-listing"),
        r.stringOf("data.hidden-labels"), r.booleanOf("data.allow-empty-unlabelled"), r.stringOf("data.class-names"));
  }

  /** Whether the shard stage reads the import stage's output (some input folder is not given). */
  public boolean usesImport() {
    return trainDir.isEmpty() || valDir.isEmpty() || (unlabelledDir.isEmpty() && unlabelledListing.isEmpty());
  }
}
