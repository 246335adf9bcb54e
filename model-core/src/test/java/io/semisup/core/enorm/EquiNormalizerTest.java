package io.semisup.core.enorm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.semisup.core.UsageError;
import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.TrainingConfig;
import java.nio.file.Files;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class EquiNormalizerTest {

  private static final InputSpec SPEC = FashionMnist.INPUT_SPEC;

  /** 64 real Fashion-MNIST training images, [64, 1, 28, 28]. */
  private static INDArray images;

  @BeforeAll
  static void loadImages() {
    assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "dataset-fashion-mnist not installed");
    FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, true);
    int n = 64;
    float[] f = new float[n * FashionMnist.PIXELS];
    for (int i = 0; i < n; i++) {
      System.arraycopy(train.chw(i * 37, SPEC), 0, f, i * FashionMnist.PIXELS, FashionMnist.PIXELS);
    }
    images = Nd4j.create(f, new long[] {n, 1, FashionMnist.SIDE, FashionMnist.SIDE}, 'c');
  }

  private static TrainingConfig cfg() {
    return TrainingConfig.defaults().withSeed(7);
  }

  @Test
  void denseChainKeepsItsOutputs() {
    ComputationGraph g = mlp(new int[] {FashionMnist.PIXELS, 64, 32, 32}, new Nesterovs(0.1, 0.9),
        DataType.FLOAT, 7);
    EquiNormalizer enorm = new EquiNormalizer(g, 1.0);
    assertThat(enorm.pairs()).extracting(RescalablePair::toString)
        .containsExactly("d0 -> d1 (64 units)", "d1 -> d2 (32 units)");
    assertOutputsKept(g, enorm, images.reshape(images.size(0), FashionMnist.PIXELS));
  }

  @Test
  void plainConvNetKeepsItsOutputs() {
    ComputationGraph g = Architectures.build("plain-conv", SPEC, 10, cfg());
    EquiNormalizer enorm = new EquiNormalizer(g, 1.0);
    assertThat(enorm.pairs()).extracting(RescalablePair::toString).containsExactly(
        "c1_conv -> c2_conv (16 units)", "c2_conv -> c3_conv (16 units)",
        "c3_conv -> c4_conv (32 units)", "c4_conv -> c5_conv (32 units)");
    assertOutputsKept(g, enorm, images);
  }

  @Test
  void residualBlocksRescaleOnlyTheirInnerPair() {
    ComputationGraph g = Architectures.build("resnet-small-nobn", SPEC, 10, cfg());
    EquiNormalizer enorm = new EquiNormalizer(g, 1.0);
    // The stem feeds a block and its skip; each block's second conv meets its shortcut.
    assertThat(enorm.pairs()).extracting(RescalablePair::toString).containsExactly(
        "s0b0_a_conv -> s0b0_b_conv (16 units)", "s1b0_a_conv -> s1b0_b_conv (32 units)");
    assertOutputsKept(g, enorm, images);
    assertThat(new EquiNormalizer(Architectures.build("resnet-small", SPEC, 10, cfg()), 1.0).pairs())
        .as("batch norm sits between every pair").isEmpty();
  }

  @Test
  void sumOfSquaredWeightsNeverIncreases() {
    ComputationGraph g = Architectures.build("plain-conv", SPEC, 10, cfg());
    EquiNormalizer enorm = new EquiNormalizer(g, 1.0);
    double before = sumOfSquaredWeights(g);
    double first = 0;
    for (int cycle = 0; cycle < 30; cycle++) {
      enorm.cycle();
      double now = sumOfSquaredWeights(g);
      assertThat(now).as("cycle " + cycle).isLessThanOrEqualTo(before * (1 + 1e-6));
      if (cycle == 0) {
        first = now;
      }
      before = now;
    }
    assertThat(first).as("the first cycle did something").isLessThan(sumOfSquaredWeights(
        Architectures.build("plain-conv", SPEC, 10, cfg())) * 0.99);
  }

  @Test
  void repeatedCyclesBalanceEveryUnit() {
    for (double c : new double[] {1.0, 1.2}) {
      ComputationGraph g = Architectures.build("plain-conv", SPEC, 10, cfg());
      EquiNormalizer enorm = new EquiNormalizer(g, c);
      for (int cycle = 0; cycle < 300; cycle++) {
        enorm.cycle();
      }
      for (RescalablePair p : enorm.pairs()) {
        double[] in = g.getLayer(p.producer()).getParam("W").norm2(1, 2, 3).toDoubleVector();
        double[] out = g.getLayer(p.consumer()).getParam("W").norm2(0, 2, 3).toDoubleVector();
        for (int u = 0; u < in.length; u++) {
          assertThat(out[u] / (c * in[u])).as(p + " unit " + u + ", c = " + c)
              .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-3));
        }
      }
    }
  }

  @Test
  void refusesUpdatersWhoseStateDoesNotRescaleLinearly() {
    ComputationGraph g = mlp(new int[] {4, 3, 3}, new Adam(0.01), DataType.FLOAT, 1);
    assertThatThrownBy(() -> new EquiNormalizer(g, 1.0).cycle())
        .isInstanceOf(UsageError.class).hasMessageContaining("Adam").hasMessageContaining("enorm-c");
    assertThatThrownBy(() -> new EquiNormalizer(g, 0.0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("c = 0.0");
  }

  /**
   * Two hidden layers (3 -> 4 -> 5, ReLU) and a softmax output, in doubles, batch 1: DL4J's
   * Nesterov steps and the cycle against the update written out by hand (forward, backward,
   * the balancing factors, the momentum rescaling, the Nesterov step).
   */
  @Test
  void stepAfterCycleWithRescaledMomentumIsThePapersUpdate() {
    double lr = 0.1;
    double mu = 0.9;
    ComputationGraph g = mlp(new int[] {3, 4, 5}, new Nesterovs(lr, mu), DataType.DOUBLE, 3);
    EquiNormalizer enorm = new EquiNormalizer(g, 1.0);
    assertThat(enorm.pairs()).extracting(RescalablePair::toString).containsExactly("d0 -> d1 (4 units)");
    // Positive weights into the hidden layers and positive inputs keep every ReLU active, so
    // every weight has a gradient; the first layer is made 3x too large to need balancing.
    INDArray first = g.getLayer("d0").getParam("W");
    first.assign(org.nd4j.linalg.ops.transforms.Transforms.abs(first).muli(3));
    INDArray second = g.getLayer("d1").getParam("W");
    second.assign(org.nd4j.linalg.ops.transforms.Transforms.abs(second));
    double[] xa = {0.5, 1.0, 2.0};
    double[] xb = {0.3, 0.8, 1.1};
    int ya = 1;
    int yb = 0;

    Net w = Net.read(g);
    Net v = Net.zeros(w);
    // Step 1 from zero momentum: v = mu v - lr g; w -= mu v_prev - (1 + mu) v.
    Net ga = w.gradient(xa, ya);
    assertThat(norm(column(ga.w[0], 0)) * norm(ga.w[1][3])).as("live units").isGreaterThan(1e-6);
    Net v1 = v.times(mu).plus(ga.times(-lr));
    Net w1 = w.plus(v.times(-mu)).plus(v1.times(1 + mu));
    fit(g, xa, ya);
    assertClose(Net.read(g), w1, "step 1");

    // The cycle: d = sqrt(||W1 row u|| / ||W0 column u||); W0 and b0 times d, W1 over d;
    // momentum of W0, b0 over d, of W1 times d.
    double[] d = new double[4];
    for (int u = 0; u < 4; u++) {
      d[u] = Math.sqrt(norm(w1.w[1][u]) / norm(column(w1.w[0], u)));
    }
    Net w2 = w1.copy();
    Net v2 = v1.copy();
    for (int u = 0; u < 4; u++) {
      for (int i = 0; i < 3; i++) {
        w2.w[0][i][u] *= d[u];
        v2.w[0][i][u] /= d[u];
      }
      w2.b[0][u] *= d[u];
      v2.b[0][u] /= d[u];
      for (int k = 0; k < 5; k++) {
        w2.w[1][u][k] /= d[u];
        v2.w[1][u][k] *= d[u];
      }
    }
    enorm.cycle();
    assertClose(Net.read(g), w2, "after the cycle");
    assertThat(max(Net.read(g).output(xa), w1.output(xa))).as("same function").isLessThan(1e-12);

    // Step 2 from the rescaled weights and momentum.
    Net gb = w2.gradient(xb, yb);
    Net v3 = v2.times(mu).plus(gb.times(-lr));
    Net w3 = w2.plus(v2.times(-mu)).plus(v3.times(1 + mu));
    fit(g, xb, yb);
    assertClose(Net.read(g), w3, "step 2");

    // Without rescaling the momentum, step 2 lands elsewhere: the test can tell.
    Net wrong = w2.plus(v1.times(-mu)).plus(v1.times(mu).plus(gb.times(-lr)).times(1 + mu));
    assertThat(Net.read(g).distance(wrong)).isGreaterThan(1e-6);
  }

  @Test
  void localTrainerRunsACycleAfterEveryStepWhenEnormCIsSet() {
    FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, true);
    int[] idx = new int[256];
    java.util.Arrays.setAll(idx, i -> i);
    float[][] x = train.chw(idx, SPEC);
    int[] y = train.labels(idx);
    TrainingConfig base = cfg().withEpochs(2).withBatchSize(16).withLearningRate(0.02)
        .withAugment(false, 0).withWeightDecay(0);
    double[] lastPairRatio = new double[2];
    for (int on = 0; on < 2; on++) {
      TrainingConfig c = base.withEnormC(on == 1 ? 1.2 : 0);
      ComputationGraph g = Architectures.build("plain-conv", SPEC, 10, c);
      List<io.semisup.core.train.LocalTrainer.EpochStats> stats =
          io.semisup.core.train.LocalTrainer.fit(g, x, y, c, SPEC, null);
      assertThat(stats.get(1).meanLoss()).as("trains, enorm " + on).isLessThan(stats.get(0).meanLoss());
      double[] in = g.getLayer("c4_conv").getParam("W").norm2(1, 2, 3).toDoubleVector();
      double[] out = g.getLayer("c5_conv").getParam("W").norm2(0, 2, 3).toDoubleVector();
      double worst = 0;
      for (int u = 0; u < in.length; u++) {
        worst = Math.max(worst, Math.abs(out[u] / (1.2 * in[u]) - 1));
      }
      lastPairRatio[on] = worst;
    }
    assertThat(lastPairRatio[1]).as("the last pair was balanced after the last step").isLessThan(1e-4);
    assertThat(lastPairRatio[0]).as("without ENorm it is not").isGreaterThan(0.05);
  }

  // ---------------------------------------------------------------------------------------------

  private static void assertOutputsKept(ComputationGraph g, EquiNormalizer enorm, INDArray x) {
    INDArray before = logits(g, x);
    double squares = sumOfSquaredWeights(g);
    enorm.cycle();
    assertThat(sumOfSquaredWeights(g)).as("the cycle rescaled something")
        .isLessThan(squares * 0.999);
    INDArray after = logits(g, x);
    double rel = before.sub(after).norm2Number().doubleValue() / before.norm2Number().doubleValue();
    assertThat(rel).isLessThanOrEqualTo(1e-5);
  }

  /** The output layer's pre-softmax values (softmax saturates and would hide differences). */
  private static INDArray logits(ComputationGraph g, INDArray x) {
    Layer out = g.getLayer(Architectures.OUTPUT);
    String in = g.getConfiguration().getVertexInputs().get(Architectures.OUTPUT).get(0);
    INDArray h = g.feedForward(new INDArray[] {x}, false).get(in);
    return h.mmul(out.getParam("W")).addiRowVector(out.getParam("b"));
  }

  private static double sumOfSquaredWeights(ComputationGraph g) {
    double s = 0;
    for (Layer l : g.getLayers()) {
      INDArray w = l.paramTable().get("W");
      if (w != null) {
        double n = w.castTo(DataType.DOUBLE).norm2Number().doubleValue();
        s += n * n;
      }
    }
    return s;
  }

  /** input -> dense ReLU layers d0, d1, ... of the given widths -> softmax output (10 or 2 classes). */
  private static ComputationGraph mlp(int[] widths, IUpdater updater, DataType type, long seed) {
    ComputationGraphConfiguration.GraphBuilder b = new NeuralNetConfiguration.Builder()
        .seed(seed).dataType(type).updater(updater)
        .weightInit(org.deeplearning4j.nn.weights.WeightInit.RELU)
        .graphBuilder().addInputs("input").setInputTypes(InputType.feedForward(widths[0]));
    String x = "input";
    for (int i = 1; i < widths.length; i++) {
      b.addLayer("d" + (i - 1), new DenseLayer.Builder().nIn(widths[i - 1]).nOut(widths[i])
          .activation(Activation.RELU).build(), x);
      x = "d" + (i - 1);
    }
    int classes = widths[0] == FashionMnist.PIXELS ? 10 : 2;
    b.addLayer(Architectures.OUTPUT, new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
        .nIn(widths[widths.length - 1]).nOut(classes).activation(Activation.SOFTMAX).build(), x);
    b.setOutputs(Architectures.OUTPUT);
    ComputationGraph g = new ComputationGraph(b.build());
    g.init();
    return g;
  }

  private static void fit(ComputationGraph g, double[] x, int y) {
    INDArray features = Nd4j.createFromArray(new double[][] {x});
    INDArray labels = Nd4j.zeros(DataType.DOUBLE, 1, 2);
    labels.putScalar(0, y, 1.0);
    g.fit(new INDArray[] {features}, new INDArray[] {labels});
  }

  private static void assertClose(Net actual, Net expected, String what) {
    assertThat(actual.distance(expected)).as(what).isLessThan(1e-10);
  }

  private static double norm(double[] a) {
    double s = 0;
    for (double v : a) {
      s += v * v;
    }
    return Math.sqrt(s);
  }

  private static double[] column(double[][] m, int j) {
    double[] c = new double[m.length];
    for (int i = 0; i < m.length; i++) {
      c[i] = m[i][j];
    }
    return c;
  }

  private static double max(double[] a, double[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  /**
   * The hand-written net: weights w[l] as [nIn][nOut] (DL4J's dense layout) and biases b[l],
   * layers d0, d1 and the output; also used for gradients and momentum of the same shapes.
   */
  private record Net(double[][][] w, double[][] b) {
    static final String[] LAYERS = {"d0", "d1", Architectures.OUTPUT};

    static Net read(ComputationGraph g) {
      double[][][] w = new double[3][][];
      double[][] b = new double[3][];
      for (int l = 0; l < 3; l++) {
        w[l] = g.getLayer(LAYERS[l]).getParam("W").toDoubleMatrix();
        b[l] = g.getLayer(LAYERS[l]).getParam("b").toDoubleVector();
      }
      return new Net(w, b);
    }

    static Net zeros(Net like) {
      return like.times(0);
    }

    Net copy() {
      return times(1);
    }

    Net times(double s) {
      return map(this, (a, x) -> a * s);
    }

    Net plus(Net o) {
      return map(o, Double::sum);
    }

    private Net map(Net o, java.util.function.DoubleBinaryOperator f) {
      double[][][] w2 = new double[3][][];
      double[][] b2 = new double[3][];
      for (int l = 0; l < 3; l++) {
        w2[l] = new double[w[l].length][w[l][0].length];
        for (int i = 0; i < w[l].length; i++) {
          for (int j = 0; j < w[l][0].length; j++) {
            w2[l][i][j] = f.applyAsDouble(w[l][i][j], o.w[l][i][j]);
          }
        }
        b2[l] = new double[b[l].length];
        for (int j = 0; j < b[l].length; j++) {
          b2[l][j] = f.applyAsDouble(b[l][j], o.b[l][j]);
        }
      }
      return new Net(w2, b2);
    }

    double distance(Net o) {
      double m = 0;
      for (int l = 0; l < 3; l++) {
        for (int i = 0; i < w[l].length; i++) {
          m = Math.max(m, max(w[l][i], o.w[l][i]));
        }
        m = Math.max(m, max(b[l], o.b[l]));
      }
      return m;
    }

    /** Pre-activations z[l] and activations a[l] (a[0] = x). */
    private double[][][] forward(double[] x) {
      double[][] z = new double[3][];
      double[][] a = new double[4][];
      a[0] = x;
      for (int l = 0; l < 3; l++) {
        z[l] = b[l].clone();
        for (int j = 0; j < z[l].length; j++) {
          for (int i = 0; i < a[l].length; i++) {
            z[l][j] += a[l][i] * w[l][i][j];
          }
        }
        a[l + 1] = new double[z[l].length];
        for (int j = 0; j < z[l].length; j++) {
          a[l + 1][j] = l < 2 ? Math.max(0, z[l][j]) : z[l][j];
        }
      }
      return new double[][][] {z, a};
    }

    double[] output(double[] x) {
      double[] z = forward(x)[0][2];
      double m = Math.max(z[0], z[1]);
      double e0 = Math.exp(z[0] - m);
      double e1 = Math.exp(z[1] - m);
      return new double[] {e0 / (e0 + e1), e1 / (e0 + e1)};
    }

    /** Gradient of the cross-entropy of the softmax output for class y. */
    Net gradient(double[] x, int y) {
      double[][][] f = forward(x);
      double[][] z = f[0];
      double[][] a = f[1];
      double[] p = output(x);
      Net grad = zeros(this);
      double[] delta = {p[0] - (y == 0 ? 1 : 0), p[1] - (y == 1 ? 1 : 0)};
      for (int l = 2; l >= 0; l--) {
        for (int i = 0; i < a[l].length; i++) {
          for (int j = 0; j < delta.length; j++) {
            grad.w[l][i][j] = a[l][i] * delta[j];
          }
        }
        System.arraycopy(delta, 0, grad.b[l], 0, delta.length);
        if (l > 0) {
          double[] prev = new double[a[l].length];
          for (int i = 0; i < prev.length; i++) {
            for (int j = 0; j < delta.length; j++) {
              prev[i] += w[l][i][j] * delta[j];
            }
            prev[i] *= z[l - 1][i] > 0 ? 1 : 0;
          }
          delta = prev;
        }
      }
      return grad;
    }
  }
}
