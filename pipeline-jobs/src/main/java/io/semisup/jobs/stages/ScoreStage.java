package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import io.semisup.core.model.ModelBundle;
import io.semisup.core.model.ModelMetadata;
import io.semisup.jobs.spark.ScoringModel;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.spark.ScorePartition;
import io.semisup.jobs.tables.Tables;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * Runs the teacher over every unlabelled image and keeps only its top-P (class, probability)
 * pairs: the one pass over the big collection, so it writes as little as the selection needs.
 */
public final class ScoreStage extends Stage {

  public static final String NAME = "score";
  public static final String SCORES = "scores";
  public static final String REJECTS = "rejects";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Teacher over the unlabelled shards: top-P classes and probabilities per image.";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(ShardStage.NAME, TeacherStage.NAME);
  }

  @Override
  protected List<String> configKeys() {
    return List.of("score");
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  @Override
  protected void run(RunContext ctx, Path out, StageReport report) throws Exception {
    int topP = ctx.config().getInt("score.top-p");
    int batch = ctx.config().getInt("score.batch-size");
    ScoringModel model = scoringModel(ctx, TeacherStage.NAME);
    ModelMetadata meta = Models.load(ctx, TeacherStage.NAME).metadata();
    Dataset<Row> images = Images.split(ctx, Tables.UNLABELLED);
    Dataset<Row> scored = score(ctx, images, model, batch, topP).persist(StorageLevel.MEMORY_AND_DISK());
    scored.filter(col("reason").isNull())
        .select(col("image_id"), col("uri"), col("classes"), col("probs"), functions.lit(meta.modelId()).as("teacher_id"))
        .write()
        .parquet(new Path(out, SCORES).toString());
    scored.filter(col("reason").isNotNull())
        .select(col("uri"), functions.lit(Tables.UNLABELLED).as("split"), col("reason"), col("detail"), functions.lit(NAME).as("stage"))
        .coalesce(1)
        .write()
        .parquet(new Path(out, REJECTS).toString());
    long read = scored.count();
    long rejected = scored.filter(col("reason").isNotNull()).count();
    scored.unpersist();
    report.count("read", read).count("scored", read - rejected).count("rejected", rejected)
        .detail("teacher_id", meta.modelId()).detail("top_p", topP).detail("backend", model.backend());
  }

  /** A stage's model, prepared for the configured scoring backend. */
  static ScoringModel scoringModel(RunContext ctx, String stage) {
    byte[] bytes = Models.bytes(ctx, stage);
    return ScoringModel.of(
        ModelBundle.fromBytes(bytes), bytes, ctx.config().getString("score.backend"),
        ctx.config().getBoolean("score.cuda"), ctx.config().getInt("score.intra-op-threads"));
  }

  /** Scores (image_id, uri, bytes, label) rows with a model; output {@link ScorePartition#SCHEMA}. */
  static Dataset<Row> score(RunContext ctx, Dataset<Row> images, ScoringModel model, int batch, int topP) {
    Broadcast<ScoringModel> b =
        ctx.spark().sparkContext().broadcast(model, scala.reflect.ClassTag$.MODULE$.apply(ScoringModel.class));
    return images.select("image_id", "uri", "bytes", "label")
        .mapPartitions(new ScorePartition(b, model.spec(), batch, topP), Encoders.row(ScorePartition.SCHEMA));
  }
}
