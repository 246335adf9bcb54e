package io.semisup.core.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.TrainingConfig;
import io.semisup.core.train.Minibatch;
import io.semisup.core.testing.FashionMnistFixture;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** {@link BatchNormKernels} equals ND4J's reductions, and training with {@link FastBatchNorm} equals DL4J's. */
class FastBatchNormTest {

  @AfterEach
  void restore() {
    PatchesAtStartup.reinstall();
  }

  @Test
  void channelStatsEqualNd4jReductionsAlsoForViewsAndLargeMeans() {
    Nd4j.getRandom().setSeed(7);
    INDArray big = Nd4j.randn(DataType.FLOAT, 9, 5, 6, 7).muli(3).addi(1000);
    // Rows 2..7: dense, row-major, but at an offset in its buffer.
    INDArray x = big.get(NDArrayIndex.interval(2, 8), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
    assertThat(x.offset()).isPositive();
    assertThat(BatchNormKernels.supports(x)).isTrue();
    INDArray mean = Nd4j.create(DataType.FLOAT, 5);
    INDArray var = Nd4j.create(DataType.FLOAT, 5);
    BatchNormKernels.meanAndVariance(x, mean, var);
    INDArray xd = x.castTo(DataType.DOUBLE);
    INDArray wantMean = xd.mean(0, 2, 3);
    INDArray wantVar = xd.var(false, 0, 2, 3);
    for (int k = 0; k < 5; k++) {
      assertThat((double) mean.getFloat(k)).isCloseTo(wantMean.getDouble(k), org.assertj.core.data.Offset.offset(1e-3));
      // Variance about 9 around a mean of 1000: a one-pass E[x^2] - E[x]^2 in float would be off by far more.
      assertThat((double) var.getFloat(k)).isCloseTo(wantVar.getDouble(k), org.assertj.core.data.Percentage.withPercentage(0.01));
    }
  }

  @Test
  void backwardEqualsLibnd4jsOnTheSameStatistics() throws Exception {
    Nd4j.getRandom().setSeed(11);
    long c = 6;
    INDArray x = Nd4j.randn(DataType.FLOAT, 8, c, 5, 7).muli(2).addi(0.5);
    INDArray dy = Nd4j.randn(DataType.FLOAT, 8, c, 5, 7);
    INDArray gamma = Nd4j.rand(DataType.FLOAT, 1, c).addi(0.5);
    INDArray beta = Nd4j.randn(DataType.FLOAT, 1, c);
    INDArray globalMean = Nd4j.zeros(DataType.FLOAT, 1, c);
    INDArray globalVar = Nd4j.ones(DataType.FLOAT, 1, c);
    double eps = 1e-5;
    org.deeplearning4j.nn.workspace.LayerWorkspaceMgr ws = org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces();
    long[] shape = {1, c};

    org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper stock = new org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper(DataType.FLOAT);
    INDArray yStock = stock.preOutput(x, true, shape, gamma, beta, globalMean, globalVar, 0.9, eps, org.deeplearning4j.nn.conf.CNN2DFormat.NCHW, ws);
    FastBatchNorm kernel = FastBatchNorm.lookUp();
    FastBatchNorm.Helper fast = kernel.newHelper(DataType.FLOAT);
    INDArray yFast = fast.preOutput(x, true, shape, gamma, beta, globalMean, globalVar, 0.9, eps, org.deeplearning4j.nn.conf.CNN2DFormat.NCHW, ws);
    assertThat(yStock.sub(yFast).amaxNumber().doubleValue()).isLessThan(1e-5);
    // The same statistics in both (libnd4j's), so the backward passes can be compared tightly.
    ((INDArray) kernel.meanCache.get(fast)).assign(stock.getMeanCache(DataType.FLOAT));
    ((INDArray) kernel.varCache.get(fast)).assign(stock.getVarCache(DataType.FLOAT));

    INDArray dGammaStock = Nd4j.zeros(DataType.FLOAT, 1, c);
    INDArray dBetaStock = Nd4j.zeros(DataType.FLOAT, 1, c);
    INDArray dGammaFast = Nd4j.zeros(DataType.FLOAT, 1, c);
    INDArray dBetaFast = Nd4j.zeros(DataType.FLOAT, 1, c);
    var s = stock.backpropGradient(x, dy, shape, gamma, beta, dGammaStock, dBetaStock, eps, org.deeplearning4j.nn.conf.CNN2DFormat.NCHW, ws);
    var f = fast.backpropGradient(x, dy, shape, gamma, beta, dGammaFast, dBetaFast, eps, org.deeplearning4j.nn.conf.CNN2DFormat.NCHW, ws);
    INDArray dxStock = s.getSecond();
    INDArray dxFast = f.getSecond();
    assertThat(dxFast.shape()).isEqualTo(x.shape());
    assertThat(dxStock.sub(dxFast).amaxNumber().doubleValue() / dxStock.amaxNumber().doubleValue()).isLessThan(1e-5);
    assertThat(dGammaStock.sub(dGammaFast).amaxNumber().doubleValue() / dGammaStock.amaxNumber().doubleValue()).isLessThan(1e-5);
    assertThat(dBetaStock.sub(dBetaFast).amaxNumber().doubleValue() / dBetaStock.amaxNumber().doubleValue()).isLessThan(1e-5);
    assertThat(f.getFirst().getGradientFor("gamma")).isSameAs(dGammaFast);
    assertThat(f.getFirst().getGradientFor("beta")).isSameAs(dBetaFast);
  }

  @Test
  void refusesWhatItCannotReadAndSaysWhy() {
    INDArray nhwcView = Nd4j.rand(DataType.FLOAT, 2, 3, 4, 5).permute(0, 2, 3, 1);
    assertThat(BatchNormKernels.supports(nhwcView)).isFalse();
    assertThat(BatchNormKernels.supports(Nd4j.rand(DataType.DOUBLE, 2, 3, 4, 5))).isFalse();
    assertThat(BatchNormKernels.supports(Nd4j.rand(DataType.FLOAT, 2, 3))).isFalse();
    assertThatThrownBy(() -> BatchNormKernels.meanAndVariance(nhwcView, Nd4j.create(DataType.FLOAT, 5), Nd4j.create(DataType.FLOAT, 5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[2, 4, 5, 3]");
  }

  @Test
  void trainingWithFastStatisticsEqualsDl4jsOneDnnHelper() throws ReflectiveOperationException {
    PatchesAtStartup.assumeNativeHelpers();
    InputSpec spec = FashionMnist.INPUT_SPEC;
    FashionMnist train = FashionMnistFixture.train();
    int[] idx = new int[FashionMnistFixture.SIZE];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    float[][] x = train.chw(idx, spec);
    int[] y = train.labels(idx);
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(4).withBatchSize(64).withLearningRate(0.05);

    ComputationGraph stock = Architectures.build("resnet-small", spec, 10, cfg);
    ComputationGraph fast = Architectures.build("resnet-small", spec, 10, cfg);
    FastBatchNorm kernel = FastBatchNorm.lookUp();
    assertThat(kernel.install(fast)).isEqualTo(6); // resnet-small's 6 batch norms
    assertThat(fastHelpers(fast)).isEqualTo(6);
    assertThat(kernel.install(fast)).as("installing twice changes nothing").isEqualTo(6);

    // One forward pass in training mode: the same minibatch statistics, so the same activations.
    INDArray batch = Minibatch.pack(java.util.Arrays.copyOf(x, 64), java.util.Arrays.copyOf(y, 64), spec, 10,
        cfg.withAugment(false, 0).augmenter(), 0, new java.util.Random(1))[0];
    java.util.Map<String, INDArray> as = stock.feedForward(new INDArray[] {batch}, true, false);
    java.util.Map<String, INDArray> af = fast.feedForward(new INDArray[] {batch}, true, false);
    for (String layer : as.keySet()) {
      assertThat(as.get(layer).sub(af.get(layer)).amaxNumber().doubleValue()).as(layer).isLessThan(2e-4);
    }
    for (Layer l : stock.getLayers()) {
      if (l instanceof BatchNormalization bn) {
        Layer f = fast.getLayer(l.conf().getLayer().getLayerName());
        INDArray sm = ((BatchNormalizationHelper) bn.getHelper()).getMeanCache(DataType.FLOAT);
        INDArray fm = ((BatchNormalizationHelper) f.getHelper()).getMeanCache(DataType.FLOAT);
        INDArray sv = ((BatchNormalizationHelper) bn.getHelper()).getVarCache(DataType.FLOAT);
        INDArray fv = ((BatchNormalizationHelper) f.getHelper()).getVarCache(DataType.FLOAT);
        assertThat(sm.sub(fm).amaxNumber().doubleValue()).isLessThan(1e-4);
        assertThat(sv.sub(fv).div(sv).amaxNumber().doubleValue()).isLessThan(1e-5);
      }
    }

    // 8 SGD steps. Rounding differences (about 1e-5 in the activations, ND4J's float mean against
    // this double one) flip a few ReLU masks of values at zero, so parameters drift apart at the
    // 1e-4 level (a wrong statistic would be 1e-1); the bound is NativeHelpersTest's.
    PatchesAtStartup.switchOff(Dl4jPatches.Patch.FAST_BATCH_NORM);
    ComputationGraph stock2 = Architectures.build("resnet-small", spec, 10, cfg);
    LocalTrainer.fit(stock2, x, y, cfg, spec, null);
    assertThat(fastHelpers(stock2)).isZero();
    PatchesAtStartup.reinstall();
    ComputationGraph fast2 = Architectures.build("resnet-small", spec, 10, cfg);
    LocalTrainer.fit(fast2, x, y, cfg, spec, null);
    assertThat(fastHelpers(fast2)).as("LocalTrainer installs the fast statistics").isEqualTo(6);
    INDArray a = stock2.params();
    INDArray b = fast2.params();
    double rel = a.sub(b).norm2Number().doubleValue() / a.norm2Number().doubleValue();
    assertThat(rel).as("relative parameter difference after training").isLessThan(1e-3);
  }

  private static long fastHelpers(ComputationGraph g) {
    long n = 0;
    for (Layer l : g.getLayers()) {
      if (l instanceof BatchNormalization && l.getHelper() instanceof FastBatchNorm.Helper) {
        n++;
      }
    }
    return n;
  }
}
