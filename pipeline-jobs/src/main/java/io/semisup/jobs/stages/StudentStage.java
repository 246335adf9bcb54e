package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

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
 * Trains the student on the pseudo-labelled set (label = the class the image was selected
 * for; an image selected for several classes is one example per class), bytes joined back from
 * the unlabelled shards.
 */
public final class StudentStage extends TrainingStage {

  public static final String NAME = "student";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Train the student on the selected pseudo-labels (warm start from the teacher by default; dl4j-spark).";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(ShardStage.NAME, SelectStage.NAME);
  }

  @Override
  public List<Table> inputs() {
    return List.of(Tables.PSEUDO_LABELS, Tables.IMAGES);
  }

  /** Writes its model ({@code model.zip}), not tables. */
  @Override
  public List<Table> outputs() {
    return List.of();
  }

  @Override
  protected String section() {
    return "student";
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  @Override
  protected Dataset<Row> examples(RunContext ctx) {
    Dataset<Row> pseudo =
        Tables.PSEUDO_LABELS.read(ctx)
            .select(col("image_id"), col("class").as("label"));
    Dataset<Row> bytes = Images.split(ctx, Tables.UNLABELLED).select("image_id", "bytes");
    Dataset<Row> selected = pseudo.join(bytes, "image_id").select("image_id", "bytes", "label");
    if (!ctx.settings().student().withLabelled()) {
      return selected;
    }
    // Pseudo-labelled and labelled images together (the paper trains on pseudo-labels only and
    // fine-tunes after). The labelled images are the only labels free of the teacher's biases,
    // and 1 in 60 of the examples: student.labelled-repeat puts each in every epoch that often.
    Dataset<Row> labelled = Images.split(ctx, Tables.TRAIN).select("image_id", "bytes", "label");
    Dataset<Row> out = selected;
    for (int r = 0; r < labelledRepeat(ctx); r++) {
      out = out.unionByName(labelled);
    }
    return out;
  }

  /** {@code student.labelled-repeat}, checked. */
  static int labelledRepeat(RunContext ctx) {
    int n = ctx.settings().student().labelledRepeat();
    if (n < 1) {
      throw new IllegalArgumentException("Cannot repeat the labelled images " + n
          + " times in the student's training set (student.labelled-repeat): use 1 or more, or"
          + " student.with-labelled=false to leave them out.");
    }
    return n;
  }

  @Override
  protected String architecture(RunContext ctx) {
    return ctx.settings().model().studentArchitecture();
  }

  @Override
  protected ComputationGraph initialModel(RunContext ctx, TrainingConfig cfg, InputSpec spec, List<String> classes) {
    if (!ctx.settings().studentWarmStart()) {
      return Architectures.build(architecture(ctx), spec, classes.size(), cfg,
          ctx.settings().model().globalPool());
    }
    // Warm start: the student continues from the teacher's weights (same architecture),
    // so the pseudo-labels' compute goes into what the teacher could not learn from 1k images.
    ModelBundle teacher = Models.load(ctx, TeacherStage.NAME);
    String teacherArch = teacher.metadata().architecture();
    if (!teacherArch.equals(architecture(ctx))) {
      throw new IllegalArgumentException(
          "Cannot start the student from the teacher: architectures differ (" + teacherArch + " vs "
              + architecture(ctx) + "). Set student.init=scratch or auto, or the same model.*-architecture.");
    }
    return teacher.graph();
  }

  @Override
  protected List<String> requires(RunContext ctx) {
    return ctx.settings().studentWarmStart()
        ? List.of(ShardStage.NAME, SelectStage.NAME, TeacherStage.NAME)
        : dependsOn();
  }
}
