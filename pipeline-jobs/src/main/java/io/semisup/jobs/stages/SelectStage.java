package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import io.semisup.core.selection.ScoreHistogram;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.spark.TopKPerClass;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;

/**
 * Picks, for every class, the K images the teacher is most confident about among those having
 * the class in their top-P: the pseudo-labelled set the student learns from.
 *
 * <p>Never sorts or shuffles all N x P candidates. Pass 1 builds per-class score histograms in
 * each partition and merges them on the driver (classes x bins numbers); they give each class a
 * threshold that keeps at least K candidates. Pass 2 keeps only candidates at or above their
 * class's threshold (about classes x K rows) and ranks those exactly, ties broken by (score desc,
 * image_id asc). The shuffle is bounded by classes x K, whatever the number of images.
 */
public final class SelectStage extends Stage {

  public static final String NAME = "select";

  /** {@code select.mode}: top-K per class (the paper's balanced selection). */
  public static final String BALANCED = "balanced";
  /** {@code select.mode}: every candidate above one confidence threshold, whatever its class. */
  public static final String THRESHOLD = "threshold";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Top-K images per class among those with the class in their top-P (paper's K, P).";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(ScoreStage.NAME, DedupStage.NAME);
  }

  @Override
  public List<Table> inputs() {
    return List.of(Tables.SCORES, Tables.DEDUP_REMOVED);
  }

  /** dedup only when {@code dedup.enabled}: without it select reads no removals. */
  @Override
  protected List<String> requires(RunContext ctx) {
    return ctx.settings().dedup().enabled() ? dependsOn() : List.of(ScoreStage.NAME);
  }

  @Override
  public List<Table> outputs() {
    return List.of(Tables.PSEUDO_LABELS, Tables.CLASS_COUNTS);
  }

  @Override
  protected List<String> configKeys() {
    return List.of("select", "score.top-p", "seed", "dedup.enabled");
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  @Override
  protected void run(RunContext ctx, Path out, StageReport report) throws Exception {
    int k = ctx.settings().select().k();
    int p = ctx.settings().select().p();
    int bins = ctx.settings().select().histogramBins();
    int topP = ctx.settings().score().topP();
    if (k <= 0 || p <= 0 || bins < 2) {
      throw new IllegalArgumentException(
          "Cannot select with select.k=" + k + ", select.p=" + p + ", select.histogram-bins=" + bins
              + ": all must be positive (bins >= 2).");
    }
    if (p > topP) {
      throw new IllegalArgumentException(
          "Cannot select with select.p=" + p + ": the scores keep only score.top-p=" + topP
              + " classes per image. Rescore with a larger score.top-p or lower select.p.");
    }
    List<String> classes = Classes.of(ctx);
    Dataset<Row> scores = Tables.SCORES.read(ctx);
    // Copies of labelled/evaluation images and pool near-duplicates found by dedup never compete.
    if (ctx.settings().dedup().enabled()) {
      Dataset<Row> removed = Tables.DEDUP_REMOVED.read(ctx).select("image_id");
      long excluded = removed.count();
      if (excluded > 0) {
        scores = scores.join(removed, scores.col("image_id").equalTo(removed.col("image_id")), "left_anti");
      }
      report.count("dedup_removed", excluded);
    }
    double fraction = ctx.settings().select().poolFraction();
    if (!(fraction > 0 && fraction <= 1)) {
      throw new IllegalArgumentException("Cannot select from select.pool-fraction=" + fraction
          + " of the pool: it must be in (0, 1].");
    }
    if (fraction < 1) {
      // The ablation over the pool's size: a seeded, deterministic subset by hash of the image id.
      long buckets = 1_000_000L;
      scores = scores.filter(functions.pmod(functions.xxhash64(col("image_id"),
              functions.lit(ctx.settings().run().seed())), functions.lit(buckets))
          .lt(functions.lit(Math.round(fraction * buckets))));
      report.detail("pool_fraction", fraction);
    }
    String mode = ctx.settings().select().mode();
    double threshold = ctx.settings().select().threshold();
    if (!mode.equals(BALANCED) && !mode.equals(THRESHOLD)) {
      throw new IllegalArgumentException("Cannot select with select.mode=" + mode + ": use "
          + BALANCED + " (top-K per class, the paper's) or " + THRESHOLD + " (one confidence threshold).");
    }
    if (!(threshold >= 0 && threshold < 1)) {
      throw new IllegalArgumentException("Cannot select with select.threshold=" + threshold
          + ": it must be in [0, 1) (0 = the threshold that keeps K x classes candidates).");
    }
    Result r = mode.equals(BALANCED)
        ? select(ctx, scores, classes, k, p, bins)
        : selectGlobal(ctx, scores, classes, (long) k * classes.size(), threshold, p, bins);
    report.detail("mode", mode);
    Tables.PSEUDO_LABELS.write(r.pseudoLabels, out);
    Tables.CLASS_COUNTS.write(r.classCounts.coalesce(1), out);

    List<Row> counts = Tables.CLASS_COUNTS.readFrom(ctx.spark(), out).orderBy("class").collectAsList();
    long selected = 0;
    List<String> short_ = new ArrayList<>();
    for (Row row : counts) {
      selected += row.getLong(row.fieldIndex("selected"));
      if (row.getBoolean(row.fieldIndex("short_of_k"))) {
        short_.add(row.getString(row.fieldIndex("class_name")) + " (" + row.getLong(row.fieldIndex("candidates")) + ")");
      }
    }
    Dataset<Row> written = Tables.PSEUDO_LABELS.readFrom(ctx.spark(), out);
    requireDistinctPerClass(written, selected);
    long images = written.select("image_id").distinct().count();
    report.count("scored_images", r.scoredImages)
        .count("candidates", r.candidates)
        .count("above_threshold", r.aboveThreshold)
        .count("selected", selected)
        .count("distinct_images", images)
        .detail("k", k)
        .detail("p", p)
        .detail("classes_short_of_k", short_);
    if (!short_.isEmpty()) {
      log.warn("[select] {} class(es) have fewer than K={} candidates: {}", short_.size(), k, short_);
    }
  }

  /**
   * Fails the stage when one image is ranked twice in one class: that happens only when the
   * scores hold two rows for one image (two writers of one run), and would train the student on
   * the image twice while the counts claim K distinct images. The pseudo-labels are at most
   * K x classes rows, so the check is cheap.
   */
  static void requireDistinctPerClass(Dataset<Row> pseudoLabels, long selected) {
    List<Row> twice = pseudoLabels.groupBy("class", "image_id").count()
        .filter(col("count").gt(1)).limit(3).collectAsList();
    if (!twice.isEmpty()) {
      Row r = twice.get(0);
      throw new IllegalStateException("Cannot commit the selection: image " + r.getString(1)
          + " is ranked " + r.getLong(2) + " times in class " + r.getInt(0) + " (of " + selected
          + " pseudo-labels): the scores table holds duplicate rows for it. Recompute score with"
          + " --force.");
    }
  }

  /** The selection, as tables (exposed for tests). */
  static Result select(RunContext ctx, Dataset<Row> scores, List<String> classes, int k, int p, int bins) {
    int numClasses = classes.size();
    TopKPerClass.Selection sel = TopKPerClass.selectTopK(ctx.spark(), scores, numClasses, k, p, bins);
    Dataset<Row> names = classNames(ctx, classes);
    Dataset<Row> pseudo =
        sel.ranked()
            .join(functions.broadcast(names), "class")
            .select(col("class"), col("class_name"), col("rank"), col("image_id"), col("score"), col("uri"))
            .repartition(col("class"))
            .sortWithinPartitions("class", "rank");
    float[] thresholds = sel.thresholds();
    List<Row> countRows = new ArrayList<>();
    long total = 0;
    for (int c = 0; c < numClasses; c++) {
      long n = sel.histogram().count(c);
      total += n;
      countRows.add(RowFactory.create(c, classes.get(c), n, Math.min(n, (long) k), thresholds[c], n < k));
    }
    Dataset<Row> classCounts = ctx.spark().createDataFrame(countRows, Tables.CLASS_COUNTS.schema());
    return new Result(pseudo, classCounts, sel.images(), total, sel.aboveThreshold());
  }

  /**
   * Selection by one confidence threshold for all classes: the baseline the paper's balanced
   * top-K is measured against. With {@code threshold} 0 the threshold is the one that keeps
   * exactly {@code budget} candidates (the balanced selection's K x classes, so the two compare at
   * equal size), ties broken by (score desc, image_id asc); otherwise every candidate of an
   * image's first p classes at or above {@code threshold}. Classes are as unbalanced as the
   * teacher's confidence: easy classes fill up, hard ones may get almost nothing.
   */
  static Result selectGlobal(RunContext ctx, Dataset<Row> scores, List<String> classes, long budget,
      double threshold, int p, int bins) {
    int numClasses = classes.size();
    TopKPerClass.Pass1 counted = TopKPerClass.countCandidates(scores, numClasses, bins, p);
    ScoreHistogram hist = counted.histogram();
    float t = threshold > 0 ? (float) threshold : hist.globalThreshold(budget);
    float[] thresholds = new float[numClasses];
    java.util.Arrays.fill(thresholds, t);
    Dataset<Row> above = TopKPerClass.candidatesAbove(ctx.spark(), scores, thresholds, p);
    if (threshold == 0) {
      // The histogram's edge keeps at least the budget; the exact cut is a bounded top-N.
      above = above.orderBy(col("score").desc(), col("image_id").asc(), col("class").asc())
          .limit((int) Math.min(Integer.MAX_VALUE, budget));
    }
    Dataset<Row> ranked = above
        .withColumn("rank", functions.row_number().over(
            Window.partitionBy("class").orderBy(col("score").desc(), col("image_id").asc())).cast("int"))
        .join(functions.broadcast(classNames(ctx, classes)), "class")
        .select(col("class"), col("class_name"), col("rank"), col("image_id"), col("score"), col("uri"))
        .repartition(col("class"))
        .sortWithinPartitions("class", "rank")
        .cache();
    long[] selected = new long[numClasses];
    for (Row row : ranked.groupBy("class").count().collectAsList()) {
      selected[row.getInt(0)] = row.getLong(1);
    }
    List<Row> countRows = new ArrayList<>();
    long total = 0;
    for (int c = 0; c < numClasses; c++) {
      long n = hist.count(c);
      total += n;
      countRows.add(RowFactory.create(c, classes.get(c), n, selected[c], t, false));
    }
    Dataset<Row> classCounts = ctx.spark().createDataFrame(countRows, Tables.CLASS_COUNTS.schema());
    return new Result(ranked, classCounts, counted.images(), total, hist.keptAbove(thresholds));
  }

  private static Dataset<Row> classNames(RunContext ctx, List<String> classes) {
    List<Row> rows = new ArrayList<>();
    for (int c = 0; c < classes.size(); c++) {
      rows.add(RowFactory.create(c, classes.get(c)));
    }
    return ctx.spark().createDataFrame(rows, Tables.PSEUDO_LABELS.columns("class", "class_name"));
  }

  /** Tables of one selection, plus the counts for the manifest. */
  record Result(Dataset<Row> pseudoLabels, Dataset<Row> classCounts, long scoredImages, long candidates, long aboveThreshold) {}
}
