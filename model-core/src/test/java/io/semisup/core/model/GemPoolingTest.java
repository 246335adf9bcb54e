package io.semisup.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.scoring.Dl4jScorer;
import io.semisup.core.scoring.OnnxExporter;
import io.semisup.core.scoring.OnnxScorer;
import io.semisup.core.train.TrainingConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** GeM pooling computes the generalized mean, learns, exports to ONNX and survives a bundle. */
class GemPoolingTest {

  private static final InputSpec SPEC = FashionMnist.INPUT_SPEC;

  private static INDArray positive(long seed, long... shape) {
    Nd4j.getRandom().setSeed(seed);
    return Nd4j.rand(DataType.FLOAT, shape).addi(0.01);
  }

  @Test
  void exponentOneIsTheAverageAndLargeExponentsApproachTheMax() {
    INDArray x = positive(1, 3, 4, 5, 6);
    INDArray avg = x.mean(2, 3);
    INDArray max = x.max(2, 3);
    assertThat(GemPoolingLayer.pool(x, 1).sub(avg).amaxNumber().doubleValue()).isLessThan(1e-6);
    double gapAt3 = GemPoolingLayer.pool(x, 3).sub(max).amaxNumber().doubleValue();
    double gapAt500 = GemPoolingLayer.pool(x, 500).sub(max).amaxNumber().doubleValue();
    // max * (1/30)^(1/500) >= max * 0.993
    assertThat(gapAt500).isLessThan(0.01).isLessThan(gapAt3);
    // between the average and the max, and not an overflow at large activations and p
    INDArray big = x.mul(100);
    INDArray y = GemPoolingLayer.pool(big, 50);
    assertThat(y.isInfinite().any() || y.isNaN().any()).isFalse();
    assertThat(y.sub(big.mean(2, 3)).minNumber().doubleValue()).isGreaterThan(0);
    assertThat(big.max(2, 3).sub(y).minNumber().doubleValue()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void negativeValuesAreClampedAndResolutionDoesNotChangeTheScale() {
    INDArray x = Nd4j.createFromArray(new float[] {-5, 2, 2, -1}).reshape(1, 1, 2, 2);
    double expected = Math.cbrt((1e-18 + 8 + 8 + 1e-18) / 4);
    assertThat(GemPoolingLayer.pool(x, 3).getDouble(0, 0)).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5));
    // a constant map pools to its value at any size, unlike DL4J's PNORM (a sum)
    assertThat(GemPoolingLayer.pool(Nd4j.valueArrayOf(new long[] {1, 2, 3, 3}, 0.5f), 3).getDouble(0, 1))
        .isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(GemPoolingLayer.pool(Nd4j.valueArrayOf(new long[] {1, 2, 9, 7}, 0.5f), 3).getDouble(0, 1))
        .isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-6));
  }

  @Test
  void gradientsMatchFiniteDifferences() {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
        .seed(3).dataType(DataType.DOUBLE).updater(new NoOp())
        .convolutionMode(ConvolutionMode.Same)
        .graphBuilder()
        .addInputs("in")
        .setInputTypes(InputType.convolutional(5, 4, 2))
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nIn(2).nOut(3)
            .activation(Activation.SOFTPLUS).build(), "in")
        .addLayer("gem", new GemPooling(3), "conv")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(3).nOut(4)
            .activation(Activation.SOFTMAX).build(), "gem")
        .setOutputs("out")
        .build();
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    Nd4j.getRandom().setSeed(11);
    INDArray in = Nd4j.rand(DataType.DOUBLE, 3, 2, 5, 4).subi(0.5);
    INDArray labels = Nd4j.zeros(DataType.DOUBLE, 3, 4);
    for (int i = 0; i < 3; i++) {
      labels.putScalar(i, i % 4, 1.0);
    }
    DataType was = Nd4j.dataType();
    DataType wasFloat = Nd4j.defaultFloatingPointType();
    boolean ok;
    try {
      Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
      ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
          .inputs(new INDArray[] {in}).labels(new INDArray[] {labels})
          .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8));
    } finally {
      Nd4j.setDefaultDataTypes(was, wasFloat);
    }
    assertThat(ok).as("GeM gradient check").isTrue();
  }

  @Test
  void everyArchitectureTakesGemAndOnnxMatchesDl4jAtTwoResolutions() {
    TrainingConfig cfg = TrainingConfig.defaults().withSeed(5);
    for (String name : List.of("resnet-tiny", "plain-conv")) {
      ComputationGraph g = Architectures.build(name, SPEC, 10, cfg, GlobalPool.gem(3));
      assertThat(g.getLayer(Architectures.POOL).conf().getLayer()).isInstanceOf(GemPooling.class);
      for (InputSpec spec : List.of(SPEC, SPEC.withSize(36, 32))) {
        float[][] batch = randomImages(spec, 6, 9);
        byte[] onnx = new OnnxExporter(spec).toBytes(g);
        try (Dl4jScorer dl4j = new Dl4jScorer(g, spec);
            OnnxScorer ort = new OnnxScorer(onnx, spec, 10)) {
          float[][] a = dl4j.probabilities(batch);
          float[][] b = ort.probabilities(batch);
          assertThat(maxAbsDiff(a, b)).as("%s at %s", name, spec).isLessThanOrEqualTo(1e-4f);
          assertThat(maxAbsDiff(new float[][] {a[0]}, new float[][] {a[1]})).isGreaterThan(1e-4f);
        }
      }
      ModelProto model = new OnnxExporter(SPEC).toModel(g);
      List<String> ops = model.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
      int pool = ops.indexOf("GlobalAveragePool");
      assertThat(ops.subList(pool - 2, pool + 2)).containsExactly("Max", "Pow", "GlobalAveragePool", "Pow");
    }
  }

  @Test
  void bundleWithGemSavesLoadsAndTrains(@TempDir Path tmp) {
    ComputationGraph g = Architectures.build("resnet-tiny", SPEC, 10, TrainingConfig.defaults(),
        GlobalPool.gem(4));
    ModelMetadata meta = new ModelMetadata("gem-1", "resnet-tiny", FashionMnist.CLASS_NAMES,
        SPEC, 1, Map.of());
    INDArray x = Nd4j.create(flatten(randomImages(SPEC, 8, 3)), new long[] {8, 1, 28, 28});
    INDArray y = Nd4j.zeros(DataType.FLOAT, 8, 10);
    for (int i = 0; i < 8; i++) {
      y.putScalar(i, i % 10, 1f);
    }
    g.fit(new org.nd4j.linalg.dataset.DataSet(x, y)); // backward through GeM inside a real graph
    INDArray before = g.outputSingle(x);
    Path file = tmp.resolve("m.zip");
    new ModelBundle(g, meta).save(file);
    ModelBundle loaded = ModelBundle.load(file);
    GemPooling conf = (GemPooling) loaded.graph().getLayer(Architectures.POOL).conf().getLayer();
    assertThat(conf.getP()).isEqualTo(4.0);
    assertThat(loaded.graph().outputSingle(x).sub(before).amaxNumber().doubleValue()).isLessThan(1e-6);
  }

  @Test
  void exponentBelowOneIsRefused() {
    assertThatThrownBy(() -> GlobalPool.gem(0.5)).hasMessageContaining("p >= 1");
    assertThatThrownBy(() -> new GlobalPool("sum", 1)).hasMessageContaining("valid are");
  }

  private static float[][] randomImages(InputSpec spec, int n, long seed) {
    Random rnd = new Random(seed);
    float[][] out = new float[n][spec.size()];
    for (float[] row : out) {
      for (int i = 0; i < row.length; i++) {
        row[i] = (float) rnd.nextGaussian();
      }
    }
    return out;
  }

  private static float[] flatten(float[][] rows) {
    float[] flat = new float[rows.length * rows[0].length];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * rows[i].length, rows[i].length);
    }
    return flat;
  }

  private static float maxAbsDiff(float[][] a, float[][] b) {
    float max = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) {
        max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
      }
    }
    return max;
  }
}
