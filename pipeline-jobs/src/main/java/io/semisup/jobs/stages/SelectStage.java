package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import io.semisup.core.selection.ScoreHistogram;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.tables.Tables;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

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
  public static final String PSEUDO_LABELS = "pseudo_labels";
  public static final String CLASS_COUNTS = "class_counts";

  /** {@code select.mode}: top-K per class (the paper's balanced selection). */
  public static final String BALANCED = "balanced";
  /** {@code select.mode}: every candidate above one confidence threshold, whatever its class. */
  public static final String THRESHOLD = "threshold";

  static final StructType CANDIDATE =
      new StructType()
          .add("class", DataTypes.IntegerType, false)
          .add("image_id", DataTypes.StringType, false)
          .add("score", DataTypes.FloatType, false)
          .add("uri", DataTypes.StringType, false);

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
    return List.of(ScoreStage.NAME);
  }

  @Override
  protected List<String> configKeys() {
    return List.of("select", "score.top-p", "seed");
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
    Dataset<Row> scores = ctx.spark().read().parquet(ctx.stagePath(ScoreStage.NAME, ScoreStage.SCORES));
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
    r.pseudoLabels.write().parquet(new Path(out, PSEUDO_LABELS).toString());
    r.classCounts.coalesce(1).write().parquet(new Path(out, CLASS_COUNTS).toString());

    List<Row> counts = ctx.spark().read().parquet(new Path(out, CLASS_COUNTS).toString()).orderBy("class").collectAsList();
    long selected = 0;
    List<String> short_ = new ArrayList<>();
    for (Row row : counts) {
      selected += row.getLong(row.fieldIndex("selected"));
      if (row.getBoolean(row.fieldIndex("short_of_k"))) {
        short_.add(row.getString(row.fieldIndex("class_name")) + " (" + row.getLong(row.fieldIndex("candidates")) + ")");
      }
    }
    Dataset<Row> written = ctx.spark().read().parquet(new Path(out, PSEUDO_LABELS).toString());
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
    Selection sel = selectTopK(ctx.spark(), scores, numClasses, k, p, bins);
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
    Dataset<Row> classCounts = ctx.spark().createDataFrame(countRows, Tables.CLASS_COUNTS);
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
    Pass1 counted = countCandidates(scores, numClasses, bins, p);
    ScoreHistogram hist = counted.histogram();
    float t = threshold > 0 ? (float) threshold : hist.globalThreshold(budget);
    float[] thresholds = new float[numClasses];
    java.util.Arrays.fill(thresholds, t);
    Dataset<Row> above = candidatesAbove(ctx.spark(), scores, thresholds, p);
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
    Dataset<Row> classCounts = ctx.spark().createDataFrame(countRows, Tables.CLASS_COUNTS);
    return new Result(ranked, classCounts, counted.images(), total, hist.keptAbove(thresholds));
  }

  /**
   * The product's exact top-K per class over a scores table (columns of {@link Tables#SCORES}),
   * reusable by the stage and by {@code bench select}. Runs pass 1 (histograms, thresholds) now;
   * {@link Selection#ranked()} is the lazy pass 2, rows (class, rank, image_id, score, uri).
   *
   * <p>Both passes read Spark's internal rows ({@code queryExecution().toRdd()}) rather than
   * exploding candidates into {@code Row}s: pass 1 reads only the two array columns and never
   * builds a candidate object, pass 2 builds one only for a candidate above its class's threshold.
   * Measured on 10^6 synthetic images (bench select): 16 s with exploded rows, see
   * docs/benchmarks.md for the figures now.
   */
  public static Selection selectTopK(SparkSession spark, Dataset<Row> scores, int numClasses, int k, int p, int bins) {
    Pass1 counted = countCandidates(scores, numClasses, bins, p);
    ScoreHistogram hist = counted.histogram();
    float[] thresholds = hist.thresholds(k);
    Dataset<Row> ranked =
        candidatesAbove(spark, scores, thresholds, p)
            .withColumn(
                "rank",
                functions.row_number().over(
                    Window.partitionBy("class").orderBy(col("score").desc(), col("image_id").asc())))
            .filter(col("rank").leq(k))
            .select(col("class"), col("rank").cast("int").as("rank"), col("image_id"), col("score"), col("uri"));
    return new Selection(ranked, hist, thresholds, counted.images(), hist.keptAbove(thresholds));
  }

  /**
   * Pass 1: one histogram per partition, merged in a tree on the executors (sent sparsely, see
   * ScoreHistogram) so the driver receives a few histograms, not one per partition: at 10^9
   * images there are thousands of partitions, each with up to classes x bins counts.
   */
  static Pass1 countCandidates(Dataset<Row> scores, int numClasses, int bins, int p) {
    JavaRDD<InternalRow> probs = scores.select("classes", "probs").queryExecution().toRdd().toJavaRDD();
    int parts = probs.getNumPartitions();
    if (parts == 0) {
      return new Pass1(new ScoreHistogram(numClasses, bins), 0);
    }
    int depth = parts <= 64 ? 1 : parts <= 4096 ? 2 : 3;
    JavaRDD<Pass1> perPartition = probs.mapPartitions(new CountPartition(numClasses, bins, p));
    return depth == 1 ? perPartition.reduce(Pass1::merge) : perPartition.treeReduce(Pass1::merge, depth);
  }

  /**
   * Pass 2: only candidates (class, image_id, score, uri) at or above their class's threshold
   * become rows and reach the shuffle.
   */
  static Dataset<Row> candidatesAbove(SparkSession spark, Dataset<Row> scores, float[] thresholds, int p) {
    Broadcast<float[]> th = spark.sparkContext().broadcast(thresholds, scala.reflect.ClassTag$.MODULE$.apply(float[].class));
    JavaRDD<Row> aboveRows =
        scores.select("image_id", "uri", "classes", "probs").queryExecution().toRdd().toJavaRDD()
            .mapPartitions(new AboveThreshold(th, p));
    return spark.createDataFrame(aboveRows, CANDIDATE);
  }

  /** What pass 1 brings back from each partition: its histogram and how many images it read. */
  record Pass1(ScoreHistogram histogram, long images) implements java.io.Serializable {
    Pass1 merge(Pass1 other) {
      return new Pass1(histogram.merge(other.histogram), images + other.images);
    }
  }

  /** Pass 1 over rows (classes, probs): counts each image's first p (class, score) pairs. */
  static final class CountPartition implements FlatMapFunction<Iterator<InternalRow>, Pass1> {
    private final int numClasses;
    private final int bins;
    private final int p;

    CountPartition(int numClasses, int bins, int p) {
      this.numClasses = numClasses;
      this.bins = bins;
      this.p = p;
    }

    @Override
    public Iterator<Pass1> call(Iterator<InternalRow> rows) {
      ScoreHistogram h = new ScoreHistogram(numClasses, bins);
      long images = 0;
      while (rows.hasNext()) {
        InternalRow r = rows.next();
        ArrayData cls = r.getArray(0);
        ArrayData probs = r.getArray(1);
        int n = Math.min(p, Math.min(cls.numElements(), probs.numElements()));
        for (int j = 0; j < n; j++) {
          h.add(cls.getInt(j), probs.getFloat(j));
        }
        images++;
      }
      return List.of(new Pass1(h, images)).iterator();
    }
  }

  /**
   * Pass 2 over rows (image_id, uri, classes, probs): the candidate rows (class, image_id, score,
   * uri) of each image's first p pairs that reach their class's threshold.
   */
  static final class AboveThreshold implements FlatMapFunction<Iterator<InternalRow>, Row> {
    private final Broadcast<float[]> thresholds;
    private final int p;

    AboveThreshold(Broadcast<float[]> thresholds, int p) {
      this.thresholds = thresholds;
      this.p = p;
    }

    @Override
    public Iterator<Row> call(Iterator<InternalRow> rows) {
      float[] th = thresholds.value();
      return new Iterator<>() {
        private final java.util.ArrayDeque<Row> ready = new java.util.ArrayDeque<>();

        @Override
        public boolean hasNext() {
          while (ready.isEmpty() && rows.hasNext()) {
            InternalRow r = rows.next();
            ArrayData cls = r.getArray(2);
            ArrayData probs = r.getArray(3);
            int n = Math.min(p, Math.min(cls.numElements(), probs.numElements()));
            String id = null;
            String uri = null;
            for (int j = 0; j < n; j++) {
              int c = cls.getInt(j);
              float s = probs.getFloat(j);
              if (s >= th[c]) {
                if (id == null) {
                  id = r.getUTF8String(0).toString();
                  uri = r.getUTF8String(1).toString();
                }
                ready.add(RowFactory.create(c, id, s, uri));
              }
            }
          }
          return !ready.isEmpty();
        }

        @Override
        public Row next() {
          if (!hasNext()) {
            throw new java.util.NoSuchElementException();
          }
          return ready.poll();
        }
      };
    }
  }

  /**
   * One selection: the ranked rows (lazy pass 2), the merged histogram and thresholds of pass 1,
   * the number of scored images and of candidates at or above their class's threshold.
   */
  public record Selection(
      Dataset<Row> ranked, ScoreHistogram histogram, float[] thresholds, long images, long aboveThreshold) {}

  private static Dataset<Row> classNames(RunContext ctx, List<String> classes) {
    List<Row> rows = new ArrayList<>();
    for (int c = 0; c < classes.size(); c++) {
      rows.add(RowFactory.create(c, classes.get(c)));
    }
    return ctx.spark().createDataFrame(rows, new StructType().add("class", DataTypes.IntegerType).add("class_name", DataTypes.StringType));
  }

  /** Tables of one selection, plus the counts for the manifest. */
  record Result(Dataset<Row> pseudoLabels, Dataset<Row> classCounts, long scoredImages, long candidates, long aboveThreshold) {}
}
