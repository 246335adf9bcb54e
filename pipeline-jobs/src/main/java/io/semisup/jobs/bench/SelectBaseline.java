package io.semisup.jobs.bench;

import static org.apache.spark.sql.functions.arrays_zip;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.slice;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;

/**
 * The straightforward Spark SQL top-K per class that {@code bench select} measures the product's
 * selection against: explode every image's top-P (class, score) pairs, rank each class's
 * candidates with {@code row_number()} over a window ordered by (score desc, image_id asc), keep
 * rank <= K. Same output columns and order of ties as {@code TopKPerClass.selectTopK}.
 *
 * <p>Left as a user would write it, with Spark's defaults: Spark 3.5 plans a partial
 * {@code WindowGroupLimit} before the shuffle when K <= spark.sql.optimizer.windowGroupLimitThreshold
 * (1000), which shrinks this baseline's shuffle at small K.
 */
public final class SelectBaseline {

  private SelectBaseline() {}

  /** Rows (class, rank, image_id, score, uri) of the top-K per class among each image's top-P. */
  public static Dataset<Row> select(Dataset<Row> scores, int k, int p) {
    Dataset<Row> candidates =
        scores
            .select(col("image_id"), col("uri"), explode(slice(arrays_zip(col("classes"), col("probs")), 1, p)).as("c"))
            .select(col("c.classes").as("class"), col("image_id"), col("c.probs").as("score"), col("uri"));
    return candidates
        .withColumn("rank", row_number().over(Window.partitionBy("class").orderBy(col("score").desc(), col("image_id").asc())))
        .filter(col("rank").leq(k))
        .select(col("class"), col("rank").cast("int").as("rank"), col("image_id"), col("score"), col("uri"));
  }
}
