package io.semisup.jobs.stages;

import io.semisup.core.model.ModelBundle;
import io.semisup.jobs.spark.ScorePartition;
import io.semisup.jobs.spark.ScoringEngine;
import io.semisup.jobs.spark.ScoringModel;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/**
 * Running a model stage's model over images, as score (the teacher over the pool), evaluate (every
 * model over the held-out split), the ablation's ceiling and {@code bench score} do it: one place
 * for the engine the configuration asks for and for how a model is prepared for it.
 */
public final class Scoring {

  /** A teacher as scoring sees it: its id (for the scores table) and the model executors load. */
  record Teacher(String id, ScoringModel model) {}

  private Scoring() {}

  /** A stage's model, prepared for the configured scoring backend. */
  static ScoringModel model(RunContext ctx, String stage) {
    byte[] bytes = Models.bytes(ctx, stage);
    return ScoringModel.of(
        ModelBundle.fromBytes(bytes), bytes, ctx.settings().score().backend(),
        engine(ctx));
  }

  /** The scoring engine the configuration asks for, on this cluster's cores per task. */
  public static ScoringEngine engine(RunContext ctx) {
    return ScoringEngine.from(ctx.settings().score(),
        ctx.spark().sparkContext().getConf().getInt("spark.task.cpus", 1));
  }

  /** Scores (image_id, uri, bytes, label) rows with a model; output {@link ScorePartition#SCHEMA}. */
  static Dataset<Row> score(RunContext ctx, Dataset<Row> images, ScoringModel model, int batch, int topP) {
    Broadcast<ScoringModel> b =
        ctx.spark().sparkContext().broadcast(model, scala.reflect.ClassTag$.MODULE$.apply(ScoringModel.class));
    return images.select("image_id", "uri", "bytes", "label")
        .mapPartitions(new ScorePartition(b, model.spec(), batch, topP), Encoders.row(ScorePartition.SCHEMA));
  }
}
