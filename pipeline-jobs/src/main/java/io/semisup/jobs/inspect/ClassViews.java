package io.semisup.jobs.inspect;

import static org.apache.spark.sql.functions.col;

import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The bounded per-class views a person inspects pseudo-labels through, computed in Spark so that
 * only (classes x a few rows) leave the executors: each class's top images, the images just above
 * its threshold (the lowest-ranked selected ones) and just below it (the best candidates not
 * selected), the most confident wrong pseudo-labels where true labels are known, per-class score
 * histograms of the candidates and the confusion counts. Used by the report stage and
 * {@code semisup export}.
 *
 * <p>A class's candidates are the images with the class among their first {@code select.p}
 * scored classes, as the select stage defines them; its threshold is the score of its last
 * selected image (the K-th when the class has K), and "below" means after that image in the
 * selection's order (score desc, image_id asc), so ties at the threshold land on the right side.
 */
public final class ClassViews {

  /** The four views of {@link #rows}. */
  public static final String TOP = "top";
  public static final String ABOVE = "above";
  public static final String BELOW = "below";
  public static final String WRONG = "wrong";

  /**
   * One row of a view. {@code rank} is the image's place in the class's order of all candidates
   * (1 = best; ranks past the class's selected count are not selected); {@code true_name} is
   * null where no true label is known.
   */
  public static final StructType ROW =
      new StructType()
          .add("view", DataTypes.StringType, false)
          .add("class", DataTypes.IntegerType, false)
          .add("class_name", DataTypes.StringType, false)
          .add("rank", DataTypes.IntegerType, false)
          .add("image_id", DataTypes.StringType, false)
          .add("score", DataTypes.FloatType, false)
          .add("uri", DataTypes.StringType, false)
          .add("true_name", DataTypes.StringType, true);

  /** Per-class histogram of the candidates' scores: (class, bin, candidates), empty bins left out. */
  public static final StructType HISTOGRAM =
      new StructType()
          .add("class", DataTypes.IntegerType, false)
          .add("bin", DataTypes.IntegerType, false)
          .add("candidates", DataTypes.LongType, false);

  /** Pseudo-labels by assigned class and true class name: (class, class_name, true_name, count). */
  public static final StructType CONFUSION =
      new StructType()
          .add("class", DataTypes.IntegerType, false)
          .add("class_name", DataTypes.StringType, false)
          .add("true_name", DataTypes.StringType, false)
          .add("count", DataTypes.LongType, false);

  private final Dataset<Row> pseudo;
  private final Dataset<Row> classCounts;
  private final Dataset<Row> scores;
  private final int p;
  private final Optional<Dataset<Row>> hidden;

  /**
   * @param pseudo the pseudo-labels table
   * @param classCounts the class counts table (every class, with its name)
   * @param scores the scores table
   * @param p the select stage's P (how many of each image's scored classes are candidates)
   * @param hidden (file, true_name) rows where true labels are known
   */
  public ClassViews(Dataset<Row> pseudo, Dataset<Row> classCounts, Dataset<Row> scores, int p, Optional<Dataset<Row>> hidden) {
    this.pseudo = pseudo;
    this.classCounts = classCounts;
    this.scores = scores;
    this.p = p;
    this.hidden = hidden;
  }

  /** Whether true labels are known, so that {@link #WRONG} and {@link #confusion()} mean something. */
  public boolean hasTruth() {
    return hidden.isPresent();
  }

  /** (class, image_id, uri, score): every image's first P scored classes. */
  Dataset<Row> candidates() {
    return scores
        .select(col("image_id"), col("uri"), col("probs"),
            functions.posexplode(functions.slice(col("classes"), 1, p)).as(new String[] {"pos", "class"}))
        .select(col("class"), col("image_id"), col("uri"), functions.expr("probs[pos]").as("score"));
  }

  /**
   * The rows of the four views: up to {@code top} best selected images per class, {@code border}
   * on each side of the threshold, and {@code wrong} most confident wrong pseudo-labels (none
   * without true labels). Bounded by classes x (top + 2 border + wrong) rows.
   */
  public Dataset<Row> rows(int top, int border, int wrong) {
    SparkSession spark = pseudo.sparkSession();
    Dataset<Row> labelled = hidden.map(h -> HiddenLabels.join(pseudo, h))
        .orElseGet(() -> pseudo.withColumn("true_name", functions.lit(null).cast("string")));
    Dataset<Row> selected = pseudo.groupBy("class").agg(functions.max("rank").as("selected"));
    Dataset<Row> topRows = labelled.filter(col("rank").leq(top)).withColumn("view", functions.lit(TOP));
    Dataset<Row> aboveRows = labelled.join(functions.broadcast(selected), "class")
        .filter(col("rank").gt(col("selected").minus(border)))
        .drop("selected")
        .withColumn("view", functions.lit(ABOVE));
    Dataset<Row> wrongRows = labelled.filter(col("true_name").isNotNull().and(col("true_name").notEqual(col("class_name"))))
        .withColumn("n", functions.row_number().over(Window.partitionBy("class").orderBy(col("score").desc(), col("image_id"))))
        .filter(col("n").leq(wrong))
        .drop("n")
        .withColumn("view", functions.lit(WRONG));
    Dataset<Row> below = spark.createDataFrame(NearestBelow.bestPerClass(notSelected(), border),
        new StructType().add("class", DataTypes.IntegerType).add("position", DataTypes.IntegerType)
            .add("image_id", DataTypes.StringType).add("uri", DataTypes.StringType).add("score", DataTypes.FloatType));
    Dataset<Row> names = classCounts.select("class", "class_name");
    Dataset<Row> belowRows = below.join(functions.broadcast(selected), "class", "left")
        .join(functions.broadcast(names), "class")
        .withColumn("rank", functions.coalesce(col("selected"), functions.lit(0)).plus(col("position")).cast("int"))
        .withColumn("true_name", functions.lit(null).cast("string"))
        .withColumn("view", functions.lit(BELOW));
    if (hidden.isPresent()) {
      belowRows = HiddenLabels.join(belowRows.drop("true_name"), hidden.get());
    }
    List<String> cols = List.of("view", "class", "class_name", "rank", "image_id", "score", "uri", "true_name");
    Dataset<Row> all = topRows.select(columns(cols))
        .unionByName(aboveRows.select(columns(cols)))
        .unionByName(belowRows.select(columns(cols)));
    if (hidden.isPresent() && wrong > 0) {
      all = all.unionByName(wrongRows.select(columns(cols)));
    }
    return all;
  }

  /** The candidates after each class's last selected image in (score desc, image_id asc) order. */
  Dataset<Row> notSelected() {
    Dataset<Row> last = pseudo
        .withColumn("n", functions.row_number().over(Window.partitionBy("class").orderBy(col("rank").desc())))
        .filter(col("n").equalTo(1))
        .select(col("class"), col("score").as("last_score"), col("image_id").as("last_id"));
    return candidates().join(functions.broadcast(last), "class", "left")
        .filter(col("last_score").isNull()
            .or(col("score").lt(col("last_score")))
            .or(col("score").equalTo(col("last_score")).and(col("image_id").gt(col("last_id")))))
        .select("class", "image_id", "uri", "score");
  }

  /** Per-class histograms of the candidates' scores in {@code bins} equal bins of [0, 1]. */
  public Dataset<Row> histograms(int bins) {
    return candidates()
        .select(col("class"),
            functions.least(functions.floor(col("score").multiply(bins)), functions.lit(bins - 1)).cast("int").as("bin"))
        .groupBy("class", "bin").agg(functions.count("*").as("candidates"));
  }

  /** The confusion counts (empty without true labels); rows with no true label are left out. */
  public Dataset<Row> confusion() {
    if (hidden.isEmpty()) {
      return pseudo.sparkSession().createDataFrame(List.of(), CONFUSION);
    }
    return HiddenLabels.join(pseudo, hidden.get())
        .filter(col("true_name").isNotNull())
        .groupBy("class", "class_name", "true_name").agg(functions.count("*").as("count"));
  }

  private static org.apache.spark.sql.Column[] columns(List<String> names) {
    return names.stream().map(functions::col).toArray(org.apache.spark.sql.Column[]::new);
  }
}
