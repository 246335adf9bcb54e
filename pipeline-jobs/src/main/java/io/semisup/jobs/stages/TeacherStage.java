package io.semisup.jobs.stages;

import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.tables.Tables;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;

/** Trains the teacher on the labelled training split: the model that labels the unlabelled pool. */
public final class TeacherStage extends TrainingStage {

  public static final String NAME = "teacher";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Train the teacher on the labelled training split (dl4j-spark).";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(ShardStage.NAME);
  }

  @Override
  protected String section() {
    return "teacher";
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  @Override
  protected Dataset<Row> examples(RunContext ctx) {
    return Images.split(ctx, Tables.TRAIN).select("image_id", "bytes", "label");
  }

  @Override
  protected String architecture(RunContext ctx) {
    return ctx.config().getString("model.teacher-architecture");
  }

  @Override
  protected ComputationGraph initialModel(RunContext ctx, TrainingConfig cfg, InputSpec spec, List<String> classes) {
    return Architectures.build(architecture(ctx), spec, classes.size(), cfg);
  }
}
