package io.semisup.jobs.stages;

import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.model.ModelBundle;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Trains the teacher on the labelled training split: the model that labels the unlabelled pool.
 * With {@code teacher.init-from} it starts from another run's model instead (with
 * {@code teacher.epochs = 0}, takes it as is): the next round of iterated self-training.
 */
public final class TeacherStage extends TrainingStage {

  public static final String NAME = "teacher";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Train the teacher on the labelled training split (dl4j-spark; in the driver with teacher.multigrain).";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(ShardStage.NAME);
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
    return "teacher";
  }

  /** A teacher started from another run's model is stale when that model is recomputed. */
  @Override
  protected java.util.Map<String, org.apache.hadoop.fs.Path> externalInputs(RunContext ctx) {
    String from = ctx.settings().teacher().initFrom();
    if (from.isEmpty()) {
      return java.util.Map.of();
    }
    org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(from);
    try {
      if (!dir.getFileSystem(ctx.fs().getConf()).exists(new org.apache.hadoop.fs.Path(dir, MANIFEST))) {
        return java.util.Map.of(); // a model folder not written by a stage: identified by its path only
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException("Cannot read " + dir + ": " + e.getMessage(), e);
    }
    return java.util.Map.of("teacher.init-from", dir);
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  @Override
  protected Dataset<Row> examples(RunContext ctx) {
    return Images.split(ctx, Tables.TRAIN).select("image_id", "bytes", "label");
  }

  /** With {@code teacher.multigrain.enabled}, the MultiGrain objective, trained in the driver. */
  @Override
  protected ComputationGraph train(RunContext ctx, io.semisup.jobs.spark.SparkTrainer trainer, ComputationGraph initial,
      Dataset<Row> rows, TrainingConfig cfg, InputSpec spec, io.semisup.core.image.RandomResizedCrop crop,
      InputSpec dataSpec, int numClasses) {
    var mg = ctx.settings().teacher().multigrain();
    if (!mg.enabled()) {
      return super.train(ctx, trainer, initial, rows, cfg, spec, crop, dataSpec, numClasses);
    }
    return io.semisup.jobs.spark.DriverTraining.fitMultigrain(initial, rows, cfg, spec, crop, dataSpec,
        mg.objective(), name());
  }

  @Override
  protected String architecture(RunContext ctx) {
    return ctx.settings().model().teacherArchitecture();
  }

  @Override
  protected ComputationGraph initialModel(RunContext ctx, TrainingConfig cfg, InputSpec spec, List<String> classes) {
    String from = ctx.settings().teacher().initFrom();
    if (from.isEmpty()) {
      return Architectures.build(architecture(ctx), spec, classes.size(), cfg,
            ctx.settings().model().globalPool());
    }
    // Iterated self-training: the previous round's (fine-tuned) student becomes the teacher.
    ModelBundle previous = Models.loadFrom(ctx, from, "teacher.init-from");
    if (!previous.metadata().architecture().equals(architecture(ctx))
        || !previous.metadata().classNames().equals(classes)) {
      throw new IllegalArgumentException("Cannot start the teacher from " + from + ": it is a "
          + previous.metadata().architecture() + " over " + previous.metadata().classNames()
          + ", this run needs a " + architecture(ctx) + " over " + classes
          + ". Set model.teacher-architecture to match, or clear teacher.init-from.");
    }
    log.info("[teacher] starting from {} ({})", from, previous.metadata().modelId());
    return previous.graph();
  }
}
