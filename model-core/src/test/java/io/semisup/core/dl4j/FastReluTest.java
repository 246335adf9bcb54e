package io.semisup.core.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.TrainingConfig;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@link FastRelu}'s backward pass equals DL4J's ReLU's, and it never outlives training. */
class FastReluTest {

  @AfterEach
  void restore() {
    PatchesAtStartup.reinstall();
  }

  @Test
  void backwardEqualsDl4jsReluIncludingAtZero() {
    Nd4j.getRandom().setSeed(4);
    INDArray x = Nd4j.randn(DataType.FLOAT, 16, 3, 5, 7);
    x.putScalar(new long[] {0, 0, 0, 0}, 0f); // derivative 0 at 0, as DL4J's
    x.putScalar(new long[] {0, 0, 0, 1}, -0f);
    x.putScalar(new long[] {0, 0, 0, 2}, Float.MIN_VALUE);
    INDArray eps = Nd4j.randn(DataType.FLOAT, 16, 3, 5, 7);
    INDArray want = new ActivationReLU().backprop(x.dup(), eps).getFirst();
    INDArray got = new FastRelu().backprop(x.dup(), eps).getFirst();
    assertThat(got.equalsWithEps(want, 0)).isTrue();
    assertThat(got.getFloat(0, 0, 0, 0)).isZero();
    assertThat(got.getFloat(0, 0, 0, 2)).isEqualTo(eps.getFloat(0, 0, 0, 2));
    assertThat(got.gt(0).castTo(DataType.INT).sumNumber().intValue()).isPositive();
  }

  @Test
  void installedForTrainingOnlyAndGoneFromTheSavedConfiguration() {
    InputSpec spec = FashionMnist.INPUT_SPEC;
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(1).withBatchSize(8);
    ComputationGraph g = Architectures.build("resnet-small", spec, 10, cfg);
    String before = g.getConfiguration().toJson();
    assertThat(FastRelu.install(g)).isEqualTo(5); // stem, block (2), stage (2)
    assertThat(FastRelu.installed(g)).isTrue();
    assertThat(g.getConfiguration().toJson()).contains(FastRelu.class.getName());
    assertThat(FastRelu.uninstall(g)).isEqualTo(5);
    assertThat(g.getConfiguration().toJson()).isEqualTo(before);

    float[][] x = new float[16][spec.size()];
    int[] y = new int[16];
    for (int i = 0; i < 16; i++) {
      x[i][i] = 1;
      y[i] = i % 10;
    }
    java.util.List<String> seenByCallback = new java.util.ArrayList<>();
    LocalTrainer.fit(g, x, y, cfg.withEpochs(2), spec, e -> seenByCallback.add(g.getConfiguration().toJson()));
    assertThat(seenByCallback).hasSize(2).allMatch(json -> !json.contains(FastRelu.class.getName()));
    assertThat(FastRelu.installed(g)).as("after LocalTrainer.fit").isFalse();

    PatchesAtStartup.switchOff(Dl4jPatches.Patch.FAST_RELU);
    TrainingKernels.install(g);
    assertThat(FastRelu.installed(g)).as("switched off").isFalse();
  }
}
