package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.config.ReportSettings;
import io.semisup.jobs.inspect.ClassViews;
import io.semisup.jobs.inspect.ConfusionHeatmap;
import io.semisup.jobs.inspect.HiddenLabels;
import io.semisup.jobs.inspect.ReportPages;
import io.semisup.jobs.inspect.SmallFiles;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * The run's report for a person to judge the pseudo-labels: an index page ({@code
 * report/report.html}: run info, accuracy, counts per class, classes short of K, score
 * histograms and, where true labels are known, the most frequent confusions and a confusion
 * heat-map) and one page per class ({@code report/classes/<class>.html}: the images just above
 * and just below the class's threshold, the score histogram of its candidates with the threshold
 * marked, its top images and its wrong pseudo-labels). Counts and metrics alone hide the failure
 * that matters most (a class whose borderline images are all the wrong thing); a page of
 * thumbnails shows it in seconds.
 *
 * <p>Every view is bounded and computed by Spark ({@link ClassViews}): only classes x a few rows
 * and their small PNG thumbnails reach the driver, and no page grows with the number of classes
 * except the index's one-line-per-class table. Pages are rendered by {@link ReportPages} from
 * auto-escaping templates; no scripts, no external resources, so the folder can be attached to a
 * ticket or opened from a download of HDFS without a server.
 */
public final class ReportStage extends Stage {

  public static final String NAME = "report";
  /** The index page (the one page of older reports). */
  public static final String HTML = ReportPages.INDEX;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "HTML report: an index page and one page per class (top, borderline and wrong pseudo-labels, histograms, confusions).";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(SelectStage.NAME, EvaluateStage.NAME, AuditStage.NAME);
  }

  @Override
  public List<Table> inputs() {
    return List.of(Tables.PSEUDO_LABELS, Tables.CLASS_COUNTS, Tables.PRECISION, Tables.SCORES, Tables.IMAGES);
  }

  @Override
  public List<Table> outputs() {
    return List.of();
  }

  @Override
  protected List<String> configKeys() {
    return List.of("report", "data.hidden-labels");
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  @Override
  protected void run(RunContext ctx, Path out, StageReport report) throws Exception {
    ReportSettings rs = ctx.settings().report();
    int perClass = rs.imagesPerClass();
    int size = rs.thumbnailSize();
    int bins = rs.histogramBins();
    if (perClass < 0 || size < 8 || bins < 2) {
      throw new IllegalArgumentException(
          "Cannot build the report with report.images-per-class=" + perClass + ", report.thumbnail-size=" + size
              + ", report.histogram-bins=" + bins + ": need images-per-class >= 0, thumbnail-size >= 8, histogram-bins >= 2.");
    }
    Dataset<Row> pseudo = Tables.PSEUDO_LABELS.read(ctx);
    Dataset<Row> countsTable = Tables.CLASS_COUNTS.read(ctx);
    List<Row> counts = countsTable.orderBy("class").collectAsList();
    Map<Integer, Row> precision = new TreeMap<>();
    if (Tables.PRECISION.exists(ctx)) {
      for (Row r : Tables.PRECISION.read(ctx).collectAsList()) {
        precision.put(r.getInt(r.fieldIndex("class")), r);
      }
    }
    JsonNode metrics = RunContext.json().readTree(ctx.readBytes(new Path(ctx.stageDir(EvaluateStage.NAME), EvaluateStage.METRICS_JSON)));
    JsonNode selectManifest = ctx.manifest(SelectStage.NAME);
    int p = selectManifest.path("details").path("p").asInt(ctx.settings().select().p());

    Optional<Dataset<Row>> hidden = HiddenLabels.read(ctx);
    ClassViews classViews = new ClassViews(pseudo, countsTable, Tables.SCORES.read(ctx), p, hidden);
    Dataset<Row> viewRows = classViews.rows(perClass, rs.borderlinePerClass(), rs.wrongPerClass()).cache();
    Map<Integer, Map<String, List<Row>>> views = new TreeMap<>();
    for (Row r : viewRows.orderBy("class", "view", "rank").collectAsList()) {
      views.computeIfAbsent(r.getInt(r.fieldIndex("class")), c -> new TreeMap<>())
          .computeIfAbsent(r.getString(r.fieldIndex("view")), v -> new ArrayList<>()).add(r);
    }
    log.info("[report] {} view rows for {} classes", viewRows.count(), counts.size());
    Map<String, byte[]> thumbnails = Thumbnails.forImages(ctx, viewRows, size);
    viewRows.unpersist();
    log.info("[report] {} thumbnails made", thumbnails.size());
    Map<Integer, long[]> classHistograms = new TreeMap<>();
    for (Row r : classViews.histograms(bins).collectAsList()) {
      classHistograms.computeIfAbsent(r.getInt(0), c -> new long[bins])[r.getInt(1)] += r.getLong(2);
    }
    Map<Integer, Float> thresholds = new TreeMap<>();
    for (Row r : pseudo.groupBy("class").agg(functions.min("score")).collectAsList()) {
      thresholds.put(r.getInt(0), r.getFloat(1));
    }
    List<Row> confusion = classViews.confusion().collectAsList();
    long[] selectedHist = histogram(pseudo.select(col("score")), bins);
    long[] top1Hist =
        histogram(
            Tables.SCORES.read(ctx)
                .select(functions.element_at(col("probs"), 1).as("score")),
            bins);
    Map<String, String> runInfo = new LinkedHashMap<>();
    runInfo.put("run directory", ctx.runDir().toString());
    runInfo.put("selection mode", selectManifest.path("details").path("mode").asText("balanced"));
    runInfo.put("classes short of K", String.valueOf(counts.stream().filter(r -> r.getBoolean(r.fieldIndex("short_of_k"))).count()));
    runInfo.put("true labels", hidden.isPresent() ? "known (hidden labels): wrong pseudo-labels and confusions shown" : "unknown");
    runInfo.put("per class page", perClass + " top images, " + rs.borderlinePerClass() + " on each side of the threshold"
        + (hidden.isPresent() ? ", " + rs.wrongPerClass() + " wrong" : ""));
    if (ctx.settings().dedup().enabled() && ctx.isCommitted(DedupStage.NAME)) {
      // select, which the report follows, read dedup's output: its counts describe this run.
      JsonNode dc = ctx.manifest(DedupStage.NAME).path("counts");
      runInfo.put("dedup", dc.path("removed").asLong() + " images removed (" + dc.path("leaks").asLong()
          + " leaks, " + dc.path("near_duplicates").asLong() + " near-duplicates), "
          + dc.path("borderline_pairs").asLong() + " borderline pairs kept; "
          + dc.path("verified_pairs").asLong() + " pairs verified geometrically, "
          + dc.path("verified_matches").asLong() + " of them copies");
    }

    if (hidden.isPresent()) {
      Map<String, Integer> indexByName = new HashMap<>();
      for (Row r : counts) {
        indexByName.put(r.getString(r.fieldIndex("class_name")), r.getInt(r.fieldIndex("class")));
      }
      List<Object[]> cells = new ArrayList<>();
      for (Row r : confusion) {
        cells.add(new Object[] {r.getInt(0), r.getString(2), r.getLong(3)});
      }
      int classes = counts.isEmpty() ? 0 : 1 + counts.stream().mapToInt(r -> r.getInt(r.fieldIndex("class"))).max().getAsInt();
      ctx.writeBytes(new Path(out, ReportPages.HEATMAP), ConfusionHeatmap.png(classes, ConfusionHeatmap.cells(cells, indexByName)));
    }
    ReportPages pages = new ReportPages(new ReportPages.Inputs(ctx.runId(), selectManifest, metrics, counts, precision, views,
        thumbnails, classHistograms, thresholds, top1Hist, selectedHist, confusion, hidden.isPresent(), size,
        rs.topConfusions(), runInfo, ClassNames.of(ctx)));
    log.info("[report] histograms and confusions collected; writing {} pages", counts.size() + 1);
    long largest = pages.writeAll((relative, html) ->
        SmallFiles.write(ctx.fs(), new Path(out, relative), html.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    report.count("classes", counts.size())
        .count("thumbnails", thumbnails.size())
        .count("view_images", views.values().stream().flatMap(v -> v.values().stream()).mapToLong(List::size).sum())
        .count("pages", counts.size() + 1)
        .count("largest_page_chars", largest)
        .detail("images_per_class", perClass)
        .detail("borderline_per_class", rs.borderlinePerClass());
  }

  /** Counts of a [0, 1] score column in equal bins (the last bin includes 1.0). */
  private static long[] histogram(Dataset<Row> scores, int bins) {
    long[] h = new long[bins];
    List<Row> rows =
        scores.filter(col("score").isNotNull())
            .select(functions.least(functions.floor(col("score").multiply(bins)), functions.lit(bins - 1)).cast("int").as("bin"))
            .groupBy("bin").count()
            .collectAsList();
    for (Row r : rows) {
      int b = Math.max(0, r.getInt(0));
      h[b] += r.getLong(1);
    }
    return h;
  }
}
