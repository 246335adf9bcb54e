package io.semisup.jobs.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.config.SemisupConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;

/** enorm-c reaches the training config, and dl4j-spark's workers get a hook that balances. */
class EnormHookTest {

  @Test
  void enormCIsOffByDefaultAndReadFromEachTrainingSection() {
    SemisupConfig defaults = SemisupConfig.load("local", null, List.of());
    for (String section : List.of("teacher", "student", "finetune")) {
      assertThat(TrainingConfigs.from(defaults.settings().train(section), 42).enormC()).as(section).isZero();
    }
    SemisupConfig on = SemisupConfig.load("local", null, List.of("train-defaults.enorm-c=1.1"));
    assertThat(TrainingConfigs.from(on.settings().train("student"), 42).enormC()).isEqualTo(1.1);
    assertThat(SparkTrainer.hooks(TrainingConfig.defaults()))
        .noneMatch(EnormHook.class::isInstance);
    assertThat(SparkTrainer.hooks(TrainingConfig.defaults().withEnormC(1.1)))
        .anyMatch(EnormHook.class::isInstance);
  }

  @Test
  void hookShippedToAWorkerBalancesTheNetworkAfterEachStep() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(new EnormHook(1.1));
    }
    EnormHook hook;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      hook = (EnormHook) in.readObject();
    }
    ComputationGraph g = Architectures.build("plain-conv", FashionMnist.INPUT_SPEC, 10,
        TrainingConfig.defaults());
    assertThat(worstImbalance(g, 1.1)).isGreaterThan(0.05);
    hook.postUpdate((org.nd4j.linalg.dataset.api.DataSet) null, g);
    assertThat(worstImbalance(g, 1.1)).as("the last pair is balanced after a cycle").isLessThan(1e-4);
  }

  /** max over units of | ||out|| / (c ||in||) - 1 | for plain-conv's last pair (c4 -> c5). */
  private static double worstImbalance(ComputationGraph g, double c) {
    double[] in = g.getLayer("c4_conv").getParam("W").norm2(1, 2, 3).toDoubleVector();
    double[] out = g.getLayer("c5_conv").getParam("W").norm2(0, 2, 3).toDoubleVector();
    double worst = 0;
    for (int u = 0; u < in.length; u++) {
      worst = Math.max(worst, Math.abs(out[u] / (c * in[u]) - 1));
    }
    return worst;
  }
}
