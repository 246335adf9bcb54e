package io.semisup.jobs.spark;

import static org.apache.spark.sql.functions.col;

import io.semisup.core.selection.ScoreHistogram;
import io.semisup.jobs.tables.Tables;
import java.util.Iterator;
import java.util.List;
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
 * The selection's two passes over a scores table, on Spark: per-class score histograms that give
 * each class a threshold keeping at least K candidates (pass 1), then only the candidates at or
 * above their class's threshold, ranked exactly (pass 2). The select stage (balanced top-K, and
 * the one-threshold baseline built on the same passes) and {@code bench select} run it.
 */
public final class TopKPerClass {

  /** A (class, image) candidate of pass 2. */
  public static final StructType CANDIDATE =
      new StructType()
          .add("class", DataTypes.IntegerType, false)
          .add("image_id", DataTypes.StringType, false)
          .add("score", DataTypes.FloatType, false)
          .add("uri", DataTypes.StringType, false);

  private TopKPerClass() {}

  /**
   * The product's exact top-K per class over a scores table (columns of {@link Tables#SCORES}),
   * for the select stage and {@code bench select}. Runs pass 1 (histograms, thresholds) now;
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
  public static Pass1 countCandidates(Dataset<Row> scores, int numClasses, int bins, int p) {
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
  public static Dataset<Row> candidatesAbove(SparkSession spark, Dataset<Row> scores, float[] thresholds, int p) {
    Broadcast<float[]> th = spark.sparkContext().broadcast(thresholds, scala.reflect.ClassTag$.MODULE$.apply(float[].class));
    JavaRDD<Row> aboveRows =
        scores.select("image_id", "uri", "classes", "probs").queryExecution().toRdd().toJavaRDD()
            .mapPartitions(new AboveThreshold(th, p));
    return spark.createDataFrame(aboveRows, CANDIDATE);
  }

  /** What pass 1 brings back from each partition: its histogram and how many images it read. */
  public record Pass1(ScoreHistogram histogram, long images) implements java.io.Serializable {
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
}
