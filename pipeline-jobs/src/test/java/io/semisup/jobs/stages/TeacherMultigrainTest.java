package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.model.Architectures;
import io.semisup.core.model.ModelBundle;
import io.semisup.core.testing.Prerequisites;
import io.semisup.core.train.LocalTrainer;
import io.semisup.jobs.SparkTestBase;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The teacher stage with {@code teacher.multigrain.enabled}: it trains in the driver on the
 * labelled split and saves the plain classifier (one output), which loads and predicts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TeacherMultigrainTest extends SparkTestBase {

  @TempDir Path root;

  @Test
  void teacherTrainsWithTheMultigrainObjectiveAndSavesTheClassifier() {
    Prerequisites.fashionMnist();
    String[] settings = {
      "data.labelled-per-class=6", "data.unlabelled-limit=20", "data.val-limit=20",
      "teacher.epochs=2", "teacher.batch-size=12", "model.pooling=gem",
      "teacher.multigrain.enabled=true"};
    RunContext ctx = context(root, "mg", settings);
    new ImportFashionMnistStage().execute(ctx);
    new ShardStage().execute(ctx);
    new TeacherStage().execute(ctx);
    ModelBundle teacher = Models.load(ctx, TeacherStage.NAME);
    assertThat(teacher.graph().getConfiguration().getNetworkOutputs()).containsExactly(Architectures.OUTPUT);
    float[][] probs = LocalTrainer.predict(teacher.graph(), new float[3][784], teacher.metadata().input());
    assertThat(probs[0]).hasSize(10);
  }
}
