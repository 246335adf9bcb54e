package io.semisup.core.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.TrainingConfig;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A graph with every kernel of {@link TrainingKernels} computes DL4J's gradients. */
class TrainingKernelsTest {

  @Test
  void resnetSmallGradientsEqualStockDl4jsOverTwoSteps() {
    PatchesAtStartup.assumeNativeHelpers();
    INDArray[] batch = FastConvolutionTest.firstTrainingImages(128, 2);
    TrainingConfig cfg = TrainingConfig.defaults().withBatchSize(128);
    // The convolution and ReLU kernels compute what DL4J's do, to float rounding. How large float
    // rounding is depends on the CPU (oneDNN picks other algorithms on AVX2 than on AVX-512), so
    // the bound is DL4J's own: the distance between its two CPU paths (oneDNN helpers, plain
    // libnd4j) over the same steps on this machine.
    PatchesAtStartup.switchOff(Dl4jPatches.Patch.FAST_BATCH_NORM);
    try {
      double bound = Math.max(1e-5, 2 * FastConvolutionTest.dl4jRounding(batch, cfg, 2, 0.05)[0]);
      assertThat(steps(batch, cfg, 11, 2)).allMatch(rel -> rel < bound); // 6 convolutions, 5 ReLUs
    } finally {
      PatchesAtStartup.reinstall();
    }
    // With the batch-norm kernels too: their double statistics against ND4J's float move the
    // gradients by about 1e-3, where ReLU inputs near zero change side (FastBatchNormTest bounds
    // the kernels' own error far tighter); after a step the two trajectories part further.
    assertThat(steps(batch, cfg, 17, 1)).allMatch(rel -> rel < 3e-3);
  }

  /** Relative gradient differences, stock DL4J against TrainingKernels, over some SGD steps. */
  private static java.util.List<Double> steps(INDArray[] batch, TrainingConfig cfg, int kernels, int steps) {
    InputSpec spec = FashionMnist.INPUT_SPEC;
    ComputationGraph stock = Architectures.build("resnet-small", spec, 10, cfg);
    ComputationGraph fast = Architectures.build("resnet-small", spec, 10, cfg);
    assertThat(TrainingKernels.install(fast)).isEqualTo(kernels);
    assertThat(TrainingKernels.installed(fast)).isTrue();
    assertThat(TrainingKernels.installed(stock)).isFalse();
    java.util.List<Double> rel = steps(batch, stock, fast, steps);
    System.out.println("TrainingKernelsTest: " + kernels + " kernels, relative gradient differences " + rel);
    return rel;
  }

  /** Relative gradient differences of two graphs with equal weights, over some SGD steps. */
  private static java.util.List<Double> steps(INDArray[] batch, ComputationGraph stock, ComputationGraph fast, int steps) {
    java.util.List<Double> rel = new java.util.ArrayList<>();
    for (int step = 0; step < steps; step++) {
      INDArray gs = FastConvolutionTest.gradient(stock, batch);
      INDArray gf = FastConvolutionTest.gradient(fast, batch);
      rel.add(gs.sub(gf).norm2Number().doubleValue() / gs.norm2Number().doubleValue());
      stock.params().subi(gs.mul(0.05));
      fast.params().subi(gf.mul(0.05));
    }
    return rel;
  }
}
