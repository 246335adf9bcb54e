package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import io.semisup.jobs.spark.ScoringModel;
import io.semisup.jobs.tables.Tables;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Top-1 and top-5 accuracy of a model on the run's held-out split: what evaluate reports for each
 * model and what the ablation measures its all-labels ceiling with (a teacher evaluated alone).
 */
public final class Accuracy {

  private Accuracy() {}

  /** {top-1, top-5} of one model stage's model on the run's test split. */
  public static double[] ofStage(RunContext ctx, String modelStage) {
    return ofStage(ctx, modelStage, Tables.VAL);
  }

  /**
   * {top-1, top-5} of one model stage's model on one split of the run ({@link Tables#VAL}, the
   * test split, or {@link Tables#VALIDATION}); null when that split has no image.
   */
  public static double[] ofStage(RunContext ctx, String modelStage, String split) {
    Dataset<Row> images = Images.split(ctx, split);
    if (images.isEmpty()) {
      return null;
    }
    ScoringModel model = Scoring.model(ctx, modelStage);
    return of(Scoring.score(ctx, images, model, ctx.settings().score().batchSize(), 5));
  }

  /** {top-1, top-5} over scored rows with labels (rows of {@code ScorePartition.SCHEMA}). */
  static double[] of(Dataset<Row> scored) {
    Row r =
        scored.filter(col("reason").isNull())
            .agg(
                functions.avg(functions.when(functions.element_at(col("classes"), 1).equalTo(col("label")), 1.0).otherwise(0.0)),
                functions.avg(functions.when(functions.array_contains(functions.slice(col("classes"), 1, 5), col("label")), 1.0).otherwise(0.0)))
            .first();
    return new double[] {r.getDouble(0), r.getDouble(1)};
  }
}
