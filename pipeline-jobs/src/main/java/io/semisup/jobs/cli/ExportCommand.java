package io.semisup.jobs.cli;

import static org.apache.spark.sql.functions.col;

import io.semisup.core.UsageError;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.inspect.ClassViews;
import io.semisup.jobs.inspect.HiddenLabels;
import io.semisup.jobs.inspect.SmallFiles;
import io.semisup.jobs.spark.SparkSessions;
import io.semisup.jobs.stages.EvaluateStage;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.SelectStage;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.Thumbnails;
import io.semisup.jobs.tables.Tables;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Writes a run's pseudo-labels, scores, counts, precision and metrics as CSV or JSON lines, plus
 * PNG thumbnails of each class's top images, into one folder. Notebooks and tools without a
 * Parquet reader (pandas without pyarrow, as on Debian 12) read that folder instead of the run's
 * Parquet tables; {@code deploy/notebooks/inspect_pseudo_labels.ipynb} falls back on it.
 *
 * <p>Beside the full tables it writes the bounded per-class views of the report ({@link
 * ClassViews}), each one small file: {@code views} (each class's top images, the images just above
 * and just below its threshold and, where true labels are known, its most confident wrong
 * pseudo-labels), {@code class_histograms} (per-class candidate score histograms), {@code
 * top1_histogram} and, with true labels, {@code confusion}. Thumbnails are written for the images
 * of the views. A notebook that reads only these stays bounded at any pool size.
 *
 * <p>Each table is a folder of part files ({@code <table>/part-*.csv|json}) as Spark writes it,
 * so exporting the scores of 10^9 images stays a parallel job ({@code --scores-fraction} samples).
 * Array columns become space-separated strings in CSV.
 */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = {
      "Export a run's tables as CSV or JSON lines, for notebooks without a Parquet engine.",
      "Tables: pseudo_labels, class_counts, precision, scores, metrics.json; the bounded per-class",
      "views (views, class_histograms, top1_histogram, confusion) and thumbnails/<image_id>.png of",
      "the views' images."
    })
final class ExportCommand implements Callable<Integer> {

  /** The bounded per-class views ({@link ClassViews#ROW}). */
  static final String VIEWS = "views";
  static final String CLASS_HISTOGRAMS = "class_histograms";
  static final String TOP1_HISTOGRAM = "top1_histogram";
  static final String CONFUSION = "confusion";

  @Mixin RunOptions options;

  @Option(names = "--format", defaultValue = "csv", description = "csv or jsonl (default: ${DEFAULT-VALUE}).")
  String format;

  @Option(names = "--out", description = "Folder to write (local path or Hadoop URI; default: <run>/export). With --force, the files an earlier export wrote there (export-manifest.json) are replaced; other files stay.")
  String out;

  @Option(names = "--thumbnails-per-class", defaultValue = "50", description = "Top images per class in the views, saved as PNG (default: ${DEFAULT-VALUE}).")
  int thumbnailsPerClass;

  @Option(names = "--borderline-per-class", defaultValue = "8", description = "Images per class on each side of its threshold in the views, saved as PNG (default: ${DEFAULT-VALUE}).")
  int borderlinePerClass = 8;

  @Option(names = "--wrong-per-class", defaultValue = "8", description = "Most confident wrong pseudo-labels per class in the views where true labels are known (default: ${DEFAULT-VALUE}).")
  int wrongPerClass = 8;

  @Option(names = "--histogram-bins", defaultValue = "20", description = "Bins of the per-class and top-1 score histograms (default: ${DEFAULT-VALUE}).")
  int histogramBins = 20;

  @Option(names = "--thumbnail-size", defaultValue = "64", description = "Thumbnail side in pixels (default: ${DEFAULT-VALUE}).")
  int thumbnailSize;

  @Option(names = "--scores-fraction", defaultValue = "1.0", description = "Fraction of the scores table to export, sampled (default: ${DEFAULT-VALUE}).")
  double scoresFraction;

  @Override
  public Integer call() throws Exception {
    if (!format.equals("csv") && !format.equals("jsonl")) {
      throw new UsageError("Cannot export as '" + format + "': use --format csv or --format jsonl.");
    }
    if (thumbnailsPerClass < 0 || borderlinePerClass < 0 || wrongPerClass < 0 || histogramBins < 2) {
      throw new UsageError("Cannot export with --thumbnails-per-class " + thumbnailsPerClass + ", --borderline-per-class "
          + borderlinePerClass + ", --wrong-per-class " + wrongPerClass + ", --histogram-bins " + histogramBins
          + ": counts must be >= 0 and bins >= 2.");
    }
    if (scoresFraction < 0 || scoresFraction > 1) {
      throw new UsageError("Cannot sample scores with --scores-fraction " + scoresFraction + ": it must be in [0, 1].");
    }
    SemisupConfig config = options.load();
    SparkSession spark = SparkSessions.create(config);
    try {
      RunContext ctx = new RunContext(spark, config);
      Path dir = export(ctx, out == null ? new Path(ctx.runDir(), "export") : new Path(out));
      System.out.println("export: " + dir);
      return 0;
    } finally {
      spark.stop();
    }
  }

  Path export(RunContext ctx, Path dir) throws IOException {
    for (String stage : List.of(Tables.SCORES.stage(), Tables.PSEUDO_LABELS.stage())) {
      if (!ctx.isCommitted(stage)) {
        throw new UsageError(
            "Cannot export run " + ctx.runId() + ": stage " + stage + " is not committed under " + ctx.stageDir(stage)
                + ". Run `bin/semisup " + stage + " --run-id " + ctx.runId() + "` first.");
      }
    }
    FileSystem fs = dir.getFileSystem(ctx.spark().sparkContext().hadoopConfiguration());
    dir = fs.makeQualified(dir);
    if (fs.exists(dir)) {
      if (!ctx.settings().run().force()) {
        throw new UsageError(
            "Cannot export to " + dir + ": it already exists. Pass --force to replace what an earlier export wrote there, or --out another folder.");
      }
      // Only what an earlier export listed: --out may be a folder with the user's own files.
      ExportManifest.deleteEarlier(fs, dir);
    }
    java.util.Set<String> before = ExportManifest.files(fs, dir);
    Map<String, Dataset<Row>> tables = new LinkedHashMap<>();
    tables.put(Tables.PSEUDO_LABELS.name(), Tables.PSEUDO_LABELS.read(ctx).orderBy("class", "rank"));
    tables.put(Tables.CLASS_COUNTS.name(), Tables.CLASS_COUNTS.read(ctx).orderBy("class"));
    Dataset<Row> scores = Tables.SCORES.read(ctx);
    if (scoresFraction < 1) {
      scores = scores.sample(scoresFraction, ctx.settings().run().seed());
    }
    scores = scores.withColumn("top1_class", functions.element_at(col("classes"), 1))
        .withColumn("top1_prob", functions.element_at(col("probs"), 1));
    tables.put(Tables.SCORES.name(), scores);
    boolean evaluated = ctx.isCommitted(EvaluateStage.NAME);
    if (evaluated && Tables.PRECISION.exists(ctx)) {
      tables.put(Tables.PRECISION.name(), Tables.PRECISION.read(ctx).orderBy("class"));
    }
    // The P the selection ran with (its manifest), else today's setting.
    int p = ctx.fs().exists(new Path(ctx.stageDir(SelectStage.NAME), Stage.MANIFEST))
        ? ctx.manifest(SelectStage.NAME).path("details").path("p").asInt(ctx.settings().select().p())
        : ctx.settings().select().p();
    Optional<Dataset<Row>> hidden = HiddenLabels.read(ctx);
    ClassViews classViews = new ClassViews(Tables.PSEUDO_LABELS.read(ctx), Tables.CLASS_COUNTS.read(ctx), Tables.SCORES.read(ctx), p, hidden);
    Dataset<Row> views = classViews.rows(thumbnailsPerClass, borderlinePerClass, wrongPerClass).cache();
    tables.put(VIEWS, views.orderBy("class", "view", "rank"));
    tables.put(CLASS_HISTOGRAMS, classViews.histograms(histogramBins).orderBy("class", "bin"));
    int bins = histogramBins;
    tables.put(TOP1_HISTOGRAM, Tables.SCORES.read(ctx)
        .select(functions.least(functions.floor(functions.element_at(col("probs"), 1).multiply(bins)), functions.lit(bins - 1))
            .cast("int").as("bin"))
        .groupBy("bin").agg(functions.count("*").as("images")).orderBy("bin"));
    if (hidden.isPresent()) {
      tables.put(CONFUSION, classViews.confusion().orderBy(col("count").desc(), col("class"), col("true_name")));
    }
    for (String name : List.of("pseudo_labels", "class_counts", "scores", "precision", VIEWS, CLASS_HISTOGRAMS, TOP1_HISTOGRAM, CONFUSION,
        EvaluateStage.METRICS_JSON, "export.json", "thumbnails")) {
      if (fs.exists(new Path(dir, name))) {
        throw new UsageError("Cannot export to " + dir + ": it holds " + name + ", which no earlier export listed in "
            + ExportManifest.NAME + " (so it is not replaced). Move it away, or --out another folder.");
      }
    }
    for (Map.Entry<String, Dataset<Row>> t : tables.entrySet()) {
      Dataset<Row> df = t.getKey().equals(Tables.SCORES.name()) ? t.getValue() : t.getValue().coalesce(1);
      String target = new Path(dir, t.getKey()).toString();
      if (format.equals("csv")) {
        flattenArrays(df).write().option("header", "true").csv(target);
      } else {
        df.write().json(target);
      }
    }
    if (evaluated) {
      Path metrics = new Path(ctx.stageDir(EvaluateStage.NAME), EvaluateStage.METRICS_JSON);
      FileUtil.copy(ctx.fs(), metrics, fs, new Path(dir, EvaluateStage.METRICS_JSON), false, ctx.spark().sparkContext().hadoopConfiguration());
    }
    // One file per image of the views: an image in several views or classes is written once.
    // A run whose image shards are gone (or a run made of tables only) exports without thumbnails.
    Map<String, byte[]> pngs = Tables.IMAGES.exists(ctx) ? Thumbnails.forImages(ctx, views, thumbnailSize) : Map.of();
    views.unpersist();
    for (Map.Entry<String, byte[]> e : pngs.entrySet()) {
      SmallFiles.write(fs, new Path(dir, "thumbnails/" + e.getKey() + ".png"), e.getValue());
    }
    int thumbs = pngs.size();
    List<String> names = new ArrayList<>(tables.keySet());
    Map<String, Object> index = new LinkedHashMap<>();
    index.put("run_id", ctx.runId());
    index.put("run_dir", ctx.runDir().toString());
    index.put("format", format);
    index.put("tables", names);
    index.put("metrics", evaluated);
    index.put("thumbnails", thumbs);
    index.put("scores_fraction", scoresFraction);
    // Readable class names (data.class-names), for the notebook: class folder name -> name.
    index.put("class_names", io.semisup.jobs.stages.ClassNames.of(ctx));
    index.put("select_p", p);
    index.put("truth_known", hidden.isPresent());
    index.put("images_per_class", thumbnailsPerClass);
    index.put("borderline_per_class", borderlinePerClass);
    index.put("wrong_per_class", wrongPerClass);
    index.put("histogram_bins", histogramBins);
    try (var os = fs.create(new Path(dir, "export.json"), true)) {
      os.write(RunContext.json().writerWithDefaultPrettyPrinter().writeValueAsBytes(index));
    }
    java.util.Set<String> ours = ExportManifest.files(fs, dir);
    ours.removeAll(before);
    ExportManifest.write(fs, dir, ours);
    return dir;
  }

  /** CSV has no arrays: array columns become space-separated strings. */
  private static Dataset<Row> flattenArrays(Dataset<Row> df) {
    for (var f : df.schema().fields()) {
      if (f.dataType() instanceof org.apache.spark.sql.types.ArrayType) {
        df = df.withColumn(f.name(), functions.concat_ws(" ", col(f.name()).cast("array<string>")));
      }
    }
    return df;
  }
}
