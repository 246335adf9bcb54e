package io.semisup.core.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.TrainingConfig;
import io.semisup.core.testing.FashionMnistFixture;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The oneDNN layer helpers are really used with the project's native build, and they compute what
 * DL4J's own code computes: same outputs, same parameters after training steps, to float rounding.
 */
class NativeHelpersTest {

  @AfterEach
  void restore() {
    System.clearProperty(NativeHelpers.PROPERTY);
    Dl4jPatches.install(Dl4jPatches.Options.none());
    PatchesAtStartup.reinstall();
  }

  private static ComputationGraph build(boolean helpers, TrainingConfig cfg) {
    System.setProperty(NativeHelpers.PROPERTY, helpers ? "false" : "true");
    return Architectures.build("resnet-small", FashionMnist.INPUT_SPEC, 10, cfg);
  }

  private static long layersWithHelper(ComputationGraph g) {
    long n = 0;
    for (Layer l : g.getLayers()) {
      if ((l instanceof ConvolutionLayer || l instanceof BatchNormalization) && l.getHelper() != null) {
        n++;
      }
    }
    return n;
  }

  @Test
  void helpersAreOnByDefaultAndMatchDl4jsOwnLayers() {
    InputSpec spec = FashionMnist.INPUT_SPEC;
    FashionMnist train = FashionMnistFixture.train();
    int n = FashionMnistFixture.SIZE;
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    float[][] x = train.chw(idx, spec);
    int[] y = train.labels(idx);
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(4).withBatchSize(64).withLearningRate(0.05);

    ComputationGraph plain = build(false, cfg);
    ComputationGraph fast = build(true, cfg);
    assertThat(layersWithHelper(plain)).isZero();
    // 6 convolutions + 6 batch norms in resnet-small: all of them on oneDNN.
    assertThat(layersWithHelper(fast)).isEqualTo(12);
    assertThat(fast.params()).isEqualTo(plain.params());

    float[][] p0 = LocalTrainer.predict(plain, x, spec);
    float[][] f0 = LocalTrainer.predict(fast, x, spec);
    assertThat(maxAbsDiff(p0, f0)).isLessThan(1e-4);

    // Same batches (seeded shuffle and augmentation), BatchNorm in training mode, 8 SGD steps;
    // DL4J's own helper statistics here (FastBatchNormTest compares those with the fast ones).
    PatchesAtStartup.switchOff(Dl4jPatches.Patch.FAST_BATCH_NORM);
    LocalTrainer.fit(plain, x, y, cfg, spec, null);
    LocalTrainer.fit(fast, x, y, cfg, spec, null);
    INDArray a = plain.params();
    INDArray b = fast.params();
    double rel = a.sub(b).norm2Number().doubleValue() / a.norm2Number().doubleValue();
    assertThat(rel).as("relative parameter difference after training").isLessThan(1e-3);
    assertThat(maxAbsDiff(LocalTrainer.predict(plain, x, spec), LocalTrainer.predict(fast, x, spec)))
        .isLessThan(1e-3);
  }

  private static double maxAbsDiff(float[][] a, float[][] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) {
        m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
      }
    }
    return m;
  }
}
