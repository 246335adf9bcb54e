package io.semisup.jobs.cli;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.semisup.core.UsageError;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.SparkSessions;
import io.semisup.jobs.stages.ImportFashionMnistStage;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.StageGraph;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The whole pipeline on a user's own folders, as {@code demo} is on Fashion-MNIST: every stage but
 * the import, after {@link OwnDataCheck} has checked the data and the settings. The options are
 * names for the {@code data.*} keys ({@code --labelled} is {@code data.train-dir}, ...), so the
 * run's manifests and {@code bin/semisup config} show them like any setting.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run every stage on your own images, as demo does on Fashion-MNIST.",
      "Labelled and test folders in ImageNet layout (<dir>/<class>/<image>), unlabelled images in",
      "any tree or a listing of URIs.",
      "Prints `run: <run directory>` and writes <run>/evaluate/metrics.json. Everything is checked",
      "before the first stage; committed stages of the same --run-id are reused, so a run resumes.",
      "Example: bin/semisup run --labelled train --test val --unlabelled pool --truth truth.tsv",
      "--preset small-colour"
    })
final class RunCommand implements Callable<Integer> {

  @Option(names = "--labelled", required = true, paramLabel = "DIR",
      description = "Labelled training images, <DIR>/<class>/<image> (data.train-dir).")
  String labelled;

  @Option(names = "--test", required = true, paramLabel = "DIR",
      description = "Held-out labelled images for top-1/top-5, same layout (data.val-dir): the test"
          + " split results are reported on, never chosen on.")
  String test;

  @Option(names = "--validation", paramLabel = "DIR",
      description = "Labelled validation images, same layout (data.validation-dir): the split to choose"
          + " settings on (ablate picks by it). Not the --test images.")
  String validation;

  @Option(names = "--validation-fraction", paramLabel = "F",
      description = "Without --validation: share of each class's --labelled images moved (seeded) out of"
          + " training into the validation split, e.g. 0.1 (data.validation-fraction).")
  Double validationFraction;

  @Option(names = "--unlabelled", paramLabel = "DIR",
      description = "Unlabelled images, any tree of files (data.unlabelled-dir).")
  String unlabelled;

  @Option(names = "--unlabelled-listing", paramLabel = "FILE",
      description = "Text file of unlabelled image URIs, one per line (data.unlabelled-listing).")
  String unlabelledListing;

  @Option(names = "--truth", paramLabel = "FILE",
      description = "True classes of unlabelled images, for pseudo-label precision only (data.hidden-labels):"
          + " TSV or CSV of <path relative to --unlabelled, or full URI> and <class folder name>, header optional.")
  String truth;

  @Mixin RunOptions options;

  @Override
  public Integer call() throws Exception {
    options.requireNoRound("run");
    if ((unlabelled == null) == (unlabelledListing == null)) {
      throw new UsageError("Cannot run without knowing the unlabelled images: give exactly one of"
          + " --unlabelled DIR and --unlabelled-listing FILE.");
    }
    set("data.train-dir", labelled);
    set("data.val-dir", test);
    set("data.unlabelled-dir", unlabelled == null ? "" : unlabelled);
    set("data.unlabelled-listing", unlabelledListing == null ? "" : unlabelledListing);
    set("data.hidden-labels", truth == null ? "" : truth);
    if (validation != null) {
      set("data.validation-dir", validation);
    }
    if (validationFraction != null) {
      options.overrides.add("data.validation-fraction=" + validationFraction);
    }
    SemisupConfig config = options.load();
    List<String> stages = StageGraph.standard().all().stream().map(Stage::name)
        .filter(n -> !n.equals(ImportFashionMnistStage.NAME)).toList();
    config.validateFor(stages);
    if (validation != null && validationFraction != null) {
      throw new UsageError("Cannot use both --validation and --validation-fraction: the folder is the"
          + " validation split, so nothing would be carved. Give one of them.");
    }
    var d = config.settings().data();
    if (d.validationDir().isEmpty() && d.validationFraction() == 0) {
      System.err.println("semisup run: no validation split (--validation DIR or --validation-fraction F):"
          + " metrics.json will have test figures only; choose settings on a validation split, never on --test.");
    }
    SparkSession spark = SparkSessions.create(config);
    try {
      OwnDataCheck.check(spark, config.settings());
      new PipelineRunner(stages, "semisup run").runRounds(spark, config);
      return 0;
    } finally {
      spark.stop();
    }
  }

  /** Adds the option as a --set that wins over the user's own (local paths made absolute). */
  private void set(String key, String value) {
    String v = value.isEmpty() || !OwnDataCheck.isLocal(value) ? value : Path.of(value).toAbsolutePath().normalize().toString();
    options.overrides.add(key + "=\"" + new String(JsonStringEncoder.getInstance().quoteAsString(v)) + "\"");
  }
}
