package io.semisup.jobs.stages;

import io.semisup.core.image.InputSpec;
import io.semisup.core.model.ModelBundle;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;

/** Fine-tunes the student on the labelled training split: the paper's last step. */
public final class FinetuneStage extends TrainingStage {

  public static final String NAME = "finetune";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Fine-tune the student on the labelled training split (dl4j-spark).";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(ShardStage.NAME, StudentStage.NAME);
  }

  @Override
  public List<Table> inputs() {
    return List.of(Tables.IMAGES);
  }

  /** Writes its model ({@code model.zip}), not tables. */
  @Override
  public List<Table> outputs() {
    return List.of();
  }

  @Override
  protected String section() {
    return "finetune";
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
    return Models.load(ctx, StudentStage.NAME).metadata().architecture();
  }

  @Override
  protected ComputationGraph initialModel(RunContext ctx, TrainingConfig cfg, InputSpec spec, List<String> classes) {
    ModelBundle student = Models.load(ctx, StudentStage.NAME);
    if (!student.metadata().classNames().equals(classes)) {
      throw new IllegalStateException(
          "Cannot fine-tune: the student's classes " + student.metadata().classNames()
              + " differ from the run's " + classes + ". Retrain the student with --force.");
    }
    return student.graph();
  }
}
