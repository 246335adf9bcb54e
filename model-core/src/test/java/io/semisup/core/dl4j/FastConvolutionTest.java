package io.semisup.core.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.TrainingConfig;
import io.semisup.core.train.Minibatch;
import io.semisup.core.testing.FashionMnistFixture;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * {@link ConvWeightGradients} equals oneDNN's weight and bias gradients, and a graph with
 * {@link FastConvolution} computes the gradients DL4J's own helpers do.
 */
class FastConvolutionTest {

  @BeforeEach
  void helpersOn() {
    PatchesAtStartup.assumeNativeHelpers();
  }

  @AfterEach
  void restore() {
    PatchesAtStartup.reinstall();
  }

  @Test
  void weightAndBiasGradientsEqualOneDnnsForSameAndExplicitPadding() {
    // resnet-small's stem: 1 channel, 3x3, Same; then 3 channels, a non-square 5x3 kernel,
    // explicit asymmetric padding (Truncate), odd sizes, and inputs that are views at an offset.
    check(Nd4j.randn(DataType.FLOAT, 8, 1, 9, 11), 16, new int[] {3, 3}, ConvolutionMode.Same, new int[] {0, 0}, false);
    INDArray big = Nd4j.randn(DataType.FLOAT, 7, 3, 10, 7);
    INDArray view = big.get(NDArrayIndex.interval(2, 7), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
    assertThat(view.offset()).isPositive();
    check(view, 5, new int[] {5, 3}, ConvolutionMode.Truncate, new int[] {2, 1}, true);
    check(Nd4j.randn(DataType.FLOAT, 4, 2, 6, 6), 4, new int[] {1, 1}, ConvolutionMode.Same, new int[] {0, 0}, true);
  }

  /** Runs DL4J's oneDNN helper and ConvWeightGradients on one convolution; compares dW and db. */
  private static void check(INDArray x, int cOut, int[] k, ConvolutionMode mode, int[] pad, boolean withBias) {
    Nd4j.getRandom().setSeed(3);
    int cIn = (int) x.size(1);
    INDArray w = Nd4j.randn(DataType.FLOAT, cOut, cIn, k[0], k[1]);
    INDArray b = withBias ? Nd4j.randn(DataType.FLOAT, 1, cOut) : null;
    int[] stride = {1, 1};
    int[] dilation = {1, 1};
    LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
    MKLDNNConvHelper stock = new MKLDNNConvHelper(DataType.FLOAT);
    INDArray y = stock.preOutput(x, w, b, k, stride, pad, null, null, mode, dilation, CNN2DFormat.NCHW, ws);
    INDArray dy = Nd4j.randn(DataType.FLOAT, y.shape());
    INDArray dwStock = Nd4j.zeros(DataType.FLOAT, cOut, cIn, k[0], k[1]);
    INDArray dbStock = withBias ? Nd4j.zeros(DataType.FLOAT, 1, cOut) : null;
    var s = stock.backpropGradient(x, w, b, dy, k, stride, pad, dbStock, dwStock, new ActivationIdentity(),
        null, null, null, mode, dilation, CNN2DFormat.NCHW, ws);
    assertThat(s.getSecond()).as("oneDNN computes the input gradient").isNotNull();

    FastConvolution.Helper fast = new FastConvolution.Helper(DataType.FLOAT, true, true);
    INDArray dwFast = Nd4j.zeros(DataType.FLOAT, cOut, cIn, k[0], k[1]).addi(99); // overwritten, not added to
    INDArray dbFast = withBias ? Nd4j.zeros(DataType.FLOAT, 1, cOut).addi(99) : null;
    var f = fast.backpropGradient(x, w, b, dy, k, stride, pad, dbFast, dwFast, new ActivationIdentity(),
        null, null, null, mode, dilation, CNN2DFormat.NCHW, ws);
    String what = Arrays.toString(x.shape()) + " k" + Arrays.toString(k) + " " + mode;
    assertThat(f.getSecond()).as("no input gradient").isNull();
    assertThat(fast.inputGradientsSkipped()).isEqualTo(1);
    assertThat(relMax(dwStock, dwFast)).as("dW " + what).isLessThan(1e-5);
    assertThat(f.getFirst().getGradientFor("W")).isSameAs(dwFast);
    if (withBias) {
      assertThat(relMax(dbStock, dbFast)).as("db " + what).isLessThan(1e-5);
      assertThat(f.getFirst().getGradientFor("b")).isSameAs(dbFast);
    }
  }

  @Test
  void refusesWhatItCannotReadAndSaysWhy() {
    INDArray nhwc = Nd4j.rand(DataType.FLOAT, 2, 3, 4, 5).permute(0, 2, 3, 1);
    assertThat(ConvWeightGradients.supports(nhwc)).isFalse();
    assertThat(ConvWeightGradients.supports(Nd4j.rand(DataType.DOUBLE, 2, 3, 4, 5))).isFalse();
    assertThatThrownBy(() -> ConvWeightGradients.compute(nhwc, Nd4j.rand(DataType.FLOAT, 2, 4, 5, 3), 1, 1,
        Nd4j.create(DataType.FLOAT, 4, 4, 3, 3), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[2, 4, 5, 3]");
    assertThatThrownBy(() -> ConvWeightGradients.compute(Nd4j.rand(DataType.FLOAT, 2, 1, 8, 8),
        Nd4j.rand(DataType.FLOAT, 2, 4, 8, 8), 3, 0, Nd4j.create(DataType.FLOAT, 4, 1, 3, 3), null))
        .as("more padding before the input than an 8-row output of a 3-row kernel allows")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Inconsistent");
  }

  /**
   * The first {@code n} Fashion-MNIST training images as one minibatch, unaugmented: real
   * pictures for the gradient comparisons, from the checked-in {@link FashionMnistFixture} (so
   * these tests run without the Debian package).
   */
  static INDArray[] firstTrainingImages(int n, long seed) {
    InputSpec spec = FashionMnist.INPUT_SPEC;
    FashionMnist train = FashionMnistFixture.train();
    assertThat(n).as("images in the fixture").isLessThanOrEqualTo(train.size());
    int[] idx = new int[n];
    Arrays.setAll(idx, i -> i);
    return Minibatch.pack(train.chw(idx, spec), train.labels(idx), spec, 10,
        TrainingConfig.defaults().withAugment(false, 0).augmenter(), 0, new Random(seed));
  }

  @Test
  void resnetSmallGradientsEqualDl4jsHelpers() throws ReflectiveOperationException {
    InputSpec spec = FashionMnist.INPUT_SPEC;
    TrainingConfig cfg = TrainingConfig.defaults().withBatchSize(64);
    INDArray[] batch = firstTrainingImages(64, 1);
    // Float rounding's scale on this CPU: DL4J's own oneDNN and plain paths over the same steps.
    double[] rounding = dl4jRounding(batch, cfg, 2, 0.1);

    ComputationGraph stock = Architectures.build("resnet-small", spec, 10, cfg);
    ComputationGraph fast = Architectures.build("resnet-small", spec, 10, cfg);
    FastConvolution kernel = FastConvolution.lookUp();
    assertThat(kernel.install(fast)).isEqualTo(6); // stem, 2 in the block, 2 + shortcut in the stage
    assertThat(kernel.install(fast)).as("installing twice changes nothing").isEqualTo(6);
    List<FastConvolution.Helper> helpers = helpers(fast);
    assertThat(helpers.stream().filter(FastConvolution.Helper::inputGradientUnused).count())
        .as("only the stem reads the images").isEqualTo(1);

    // Two steps each: the second runs on updated weights, so a stale forward output would show.
    for (int step = 0; step < 2; step++) {
      INDArray gs = gradient(stock, batch);
      INDArray gf = gradient(fast, batch);
      assertThat(relMax(gs, gf)).as("all gradients, step " + step).isLessThan(Math.max(1e-4, 2 * rounding[1]));
      assertThat(gs.sub(gf).norm2Number().doubleValue() / gs.norm2Number().doubleValue())
          .isLessThan(Math.max(1e-5, 2 * rounding[0]));
      stock.params().subi(gs.mul(0.1));
      fast.params().subi(gf.mul(0.1));
    }
    assertThat(helpers.stream().mapToLong(FastConvolution.Helper::recomputationsSkipped).sum())
        .as("each convolution's backward pass skipped its recomputation, twice").isEqualTo(12);
    assertThat(helpers.stream().mapToLong(FastConvolution.Helper::inputGradientsSkipped).sum()).isEqualTo(2);
  }

  /**
   * The largest relative gradient difference between DL4J's two CPU paths for resnet-small (its
   * oneDNN helpers and plain libnd4j) over {@code steps} SGD steps: how far float rounding alone
   * moves the gradients on this machine (oneDNN picks other algorithms on AVX2 than on AVX-512),
   * the scale the kernels' own differences are held to: {relative norm, largest per-element}.
   */
  static double[] dl4jRounding(INDArray[] batch, TrainingConfig cfg, int steps, double lr) {
    Dl4jPatches.Options before = Dl4jPatches.status().options();
    try {
      ComputationGraph onednn = Architectures.build("resnet-small", FashionMnist.INPUT_SPEC, 10, cfg);
      Dl4jPatches.install(before.with(Dl4jPatches.Patch.NATIVE_HELPERS, false));
      ComputationGraph plain = Architectures.build("resnet-small", FashionMnist.INPUT_SPEC, 10, cfg);
      double max = 0;
      double elementMax = 0;
      for (int step = 0; step < steps; step++) {
        INDArray a = gradient(onednn, batch);
        INDArray b = gradient(plain, batch);
        max = Math.max(max, a.sub(b).norm2Number().doubleValue() / a.norm2Number().doubleValue());
        elementMax = Math.max(elementMax, relMax(a, b));
        onednn.params().subi(a.mul(lr));
        plain.params().subi(b.mul(lr));
      }
      System.out.println("DL4J's oneDNN and plain paths: relative gradient difference " + max
          + ", largest per-element " + elementMax);
      return new double[] {max, elementMax};
    } finally {
      Dl4jPatches.install(before);
    }
  }

  @Test
  void anInputSharedByTwoLayersKeepsItsGradient() throws ReflectiveOperationException {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.FLOAT)
        .updater(new Sgd(0.1)).convolutionMode(ConvolutionMode.Same).graphBuilder()
        .addInputs("in").setInputTypes(InputType.convolutional(8, 8, 2))
        .addLayer("a", new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.IDENTITY).build(), "in")
        .addLayer("b", new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).build(), "in")
        .addVertex("m", new MergeVertex(), "a", "b")
        .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "m")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "gap")
        .setOutputs("out").build();
    ComputationGraph stock = new ComputationGraph(conf);
    stock.init();
    ComputationGraph fast = new ComputationGraph(conf.clone());
    fast.init();
    assertThat(FastConvolution.lookUp().install(fast)).isEqualTo(2);
    assertThat(helpers(fast)).noneMatch(FastConvolution.Helper::inputGradientUnused);
    Nd4j.getRandom().setSeed(9);
    INDArray x = Nd4j.randn(DataType.FLOAT, 6, 2, 8, 8);
    INDArray y = Nd4j.zeros(DataType.FLOAT, 6, 3);
    for (int i = 0; i < 6; i++) {
      y.putScalar(i, i % 3, 1);
    }
    INDArray[] batch = {x, y};
    INDArray gs = gradient(stock, batch);
    INDArray gf = gradient(fast, batch);
    assertThat(relMax(gs, gf)).isLessThan(1e-4);
    FastConvolution.Helper identity = (FastConvolution.Helper) fast.getLayer("a").getHelper();
    FastConvolution.Helper relu = (FastConvolution.Helper) fast.getLayer("b").getHelper();
    assertThat(identity.recomputationsSkipped()).isEqualTo(1);
    assertThat(relu.recomputationsSkipped()).as("ReLU's derivative reads the forward output").isZero();
  }

  @Test
  void offLeavesDl4jsHelpers() {
    PatchesAtStartup.switchOff(Dl4jPatches.Patch.FAST_CONVOLUTION);
    assertThat(Dl4jPatches.status().patches().get(Dl4jPatches.Patch.FAST_CONVOLUTION).state())
        .isEqualTo(Dl4jPatches.State.OFF);
    ComputationGraph g = Architectures.build("resnet-small", FashionMnist.INPUT_SPEC, 10, TrainingConfig.defaults());
    TrainingKernels.install(g);
    assertThat(helpers(g)).isEmpty();
    assertThat(g.getLayers()).as("DL4J's oneDNN helpers stay")
        .anyMatch(l -> l.getHelper() != null && l.getHelper().getClass() == MKLDNNConvHelper.class);
  }

  /** The gradient of one minibatch (features, labels), copied out of the graph. */
  static INDArray gradient(ComputationGraph g, INDArray[] batch) {
    g.setInputs(batch[0]);
    g.setLabels(batch[1]);
    g.computeGradientAndScore();
    return g.gradient().gradient().dup();
  }

  private static List<FastConvolution.Helper> helpers(ComputationGraph g) {
    List<FastConvolution.Helper> out = new ArrayList<>();
    for (Layer l : g.getLayers()) {
      if (l.getHelper() instanceof FastConvolution.Helper h) {
        out.add(h);
      }
    }
    return out;
  }

  private static double relMax(INDArray want, INDArray got) {
    return want.sub(got).amaxNumber().doubleValue() / want.amaxNumber().doubleValue();
  }
}
