package io.semisup.core.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.model.ModelBundle;
import io.semisup.core.model.ModelMetadata;
import io.semisup.core.train.TrainingConfig;
import io.semisup.core.testing.Prerequisites;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** The exported model computes what DL4J computes, on every architecture the project builds. */
class OnnxExporterTest {

  private static final InputSpec SPEC = FashionMnist.INPUT_SPEC;
  private static final float TOLERANCE = 1e-4f;

  private static FashionMnist train;
  private static FashionMnist test;

  @BeforeAll
  static void data() {
    Path dir = Path.of(System.getProperty("semisup.fashionMnistDir",
        FashionMnist.DEFAULT_DIR.toString()));
    if (Files.isDirectory(dir)) {
      train = FashionMnist.load(dir, true);
      test = FashionMnist.load(dir, false);
    }
  }

  private static int[] range(int from, int n) {
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) {
      idx[i] = from + i;
    }
    return idx;
  }

  /** A few SGD steps on real images, so weights and BN running statistics are not the init's. */
  private static void trainSteps(ComputationGraph g, int steps, int batch) {
    for (int s = 0; s < steps; s++) {
      int[] idx = range(s * batch, batch);
      float[][] x = train.chw(idx, SPEC);
      int[] y = train.labels(idx);
      float[] flat = new float[batch * SPEC.size()];
      float[] oneHot = new float[batch * 10];
      for (int i = 0; i < batch; i++) {
        System.arraycopy(x[i], 0, flat, i * SPEC.size(), SPEC.size());
        oneHot[i * 10 + y[i]] = 1f;
      }
      g.fit(new DataSet(
          Nd4j.create(flat, new long[] {batch, SPEC.channels(), SPEC.height(), SPEC.width()}),
          Nd4j.create(oneHot, new long[] {batch, 10})));
    }
  }

  private static float maxAbsDiff(float[][] a, float[][] b) {
    assertThat(a.length).isEqualTo(b.length);
    float max = 0;
    for (int i = 0; i < a.length; i++) {
      assertThat(a[i].length).isEqualTo(b[i].length);
      for (int j = 0; j < a[i].length; j++) {
        max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
      }
    }
    return max;
  }

  /**
   * Rescales the output layer so each class's logit varies from image to image with a standard
   * deviation of about 2 around 0. A deep network with random weights (ResNet-50 here) has
   * logits in the hundreds that barely depend on the image: its softmax is one-hot, or the same
   * for every image, in both engines, and a parity check on it would compare 1.0 with 1.0
   * whatever the layers before computed.
   */
  private static void unsaturate(ComputationGraph g, InputSpec spec, float[][] images) {
    int n = Math.min(images.length, 32);
    int size = images[0].length;
    float[] flat = new float[n * size];
    for (int i = 0; i < n; i++) {
      System.arraycopy(images[i], 0, flat, i * size, size);
    }
    var x = Nd4j.create(flat, new long[] {n, spec.channels(), spec.height(), spec.width()});
    var gap = g.feedForward(new org.nd4j.linalg.api.ndarray.INDArray[] {x}, false).get("gap");
    var out = g.getLayer(Architectures.OUTPUT);
    var w = out.getParam("W");
    var b = out.getParam("b");
    var logits = gap.mmul(w).addRowVector(b);
    var mean = logits.mean(0);
    double scale = 2.0 / logits.subRowVector(mean).stdNumber().doubleValue();
    out.setParam("W", w.mul(scale));
    out.setParam("b", b.sub(mean.reshape(b.shape())).mul(scale));
  }

  @Test
  void everyArchitectureScoresLikeDl4jOnRealImages() {
    Prerequisites.fashionMnist(); // loaded by data() when present
    float[][] images = test.chw(range(0, 200), SPEC);
    TrainingConfig cfg = TrainingConfig.defaults().withSeed(7);
    for (String name : Architectures.names()) {
      if (name.equals(Architectures.RESNET_50)) {
        // At 28x28 grey ResNet-50's output does not depend on the image (measured: identical
        // probabilities for every image), so the comparison would be vacuous; it is checked at
        // 64x64 RGB in resnet50ScoresLikeDl4jOnASmallInput.
        continue;
      }
      ComputationGraph g = Architectures.build(name, SPEC, 10, cfg);
      trainSteps(g, 1, 32);
      // BN running statistics moved away from their init (mean 0, std 1); BN-free nets have none.
      if (g.getConfiguration().getVertices().containsKey("stem_bn")) {
        assertThat(g.getLayer("stem_bn").getParam("mean").maxNumber().doubleValue())
            .isNotEqualTo(0.0);
      }

      byte[] onnx = new OnnxExporter(SPEC).toBytes(g);
      float[][] expected;
      float[][] actual;
      try (Dl4jScorer dl4j = new Dl4jScorer(g, SPEC);
          OnnxScorer ort = new OnnxScorer(onnx, SPEC, 10)) {
        expected = dl4j.probabilities(images);
        actual = ort.probabilities(images);
      }
      float diff = maxAbsDiff(expected, actual);
      float spread = maxAbsDiff(new float[][] {expected[0]}, new float[][] {expected[1]});
      System.out.printf("ONNX parity %s: max abs diff %.3g over %d images (%d bytes);"
          + " images 0 and 1 differ by %.3g%n", name, diff, images.length, onnx.length, spread);
      assertThat(spread).as("%s's output depends on the image", name).isGreaterThan(1e-3f);
      assertThat(diff).as("max |DL4J - ONNX| for %s", name).isLessThanOrEqualTo(TOLERANCE);
    }
  }

  /**
   * The second output is DL4J's pooled features (layer gap, average or GeM), L2-normalised by the
   * scorer: the embedding dedup compares, from the same forward pass as the probabilities.
   */
  @Test
  void embeddingOutputIsDl4jsPooledFeatures() {
    Prerequisites.fashionMnist(); // loaded by data() when present
    float[][] images = test.chw(range(0, 64), SPEC);
    TrainingConfig cfg = TrainingConfig.defaults().withSeed(11);
    for (io.semisup.core.model.GlobalPool pool :
        List.of(io.semisup.core.model.GlobalPool.AVG, io.semisup.core.model.GlobalPool.gem(3))) {
      ComputationGraph g = Architectures.build("resnet-small", SPEC, 10, cfg, pool);
      trainSteps(g, 1, 32);
      float[][] expected = io.semisup.core.dedup.Embeddings.of(g, images, SPEC);
      Scorer.Outputs ort;
      Scorer.Outputs dl4j;
      float[][] probsOnly;
      try (OnnxScorer scorer = new OnnxScorer(new OnnxExporter(SPEC).toBytes(g), SPEC, 10);
          Dl4jScorer reference = new Dl4jScorer(g, SPEC)) {
        assertThat(scorer.embeds()).isTrue();
        ort = scorer.probabilitiesAndEmbeddings(images);
        probsOnly = scorer.probabilities(images);
        dl4j = reference.probabilitiesAndEmbeddings(images);
      }
      float diff = maxAbsDiff(expected, ort.embeddings());
      System.out.printf("ONNX embedding parity resnet-small %s: max abs diff %.3g, %d dims%n",
          pool, diff, expected[0].length);
      assertThat(diff).as("max |DL4J - ONNX| of the %s embedding", pool)
          .isLessThanOrEqualTo(TOLERANCE);
      assertThat(maxAbsDiff(expected, dl4j.embeddings())).isLessThanOrEqualTo(1e-6f);
      assertThat(maxAbsDiff(probsOnly, ort.probabilities())).isEqualTo(0f);
      for (float[] e : ort.embeddings()) {
        double norm = 0;
        for (float v : e) {
          norm += v * v;
        }
        assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
      }
      // Embeddings differ from image to image (a vacuous comparison would pass on constants).
      assertThat(maxAbsDiff(new float[][] {expected[0]}, new float[][] {expected[1]}))
          .isGreaterThan(1e-3f);
    }
  }

  /**
   * ResNet-50's layer types at a small RGB input: 7x7 stride-2 stem, 3x3 stride-2 max-pooling
   * with Same padding (asymmetric, pads ignored by the max), bottleneck blocks with stride-2
   * 3x3 convolutions and stride-2 1x1 projections. One SGD step moves the BN statistics.
   */
  @Test
  void resnet50ScoresLikeDl4jOnASmallInput() {
    InputSpec spec = new InputSpec(64, 64, 3, new float[] {0.485f, 0.456f, 0.406f},
        new float[] {0.229f, 0.224f, 0.225f});
    ComputationGraph g = Architectures.build(Architectures.RESNET_50, spec, 10,
        TrainingConfig.defaults().withSeed(5));
    Random rnd = new Random(8);
    int n = 4;
    float[][] batch = new float[n][spec.size()];
    float[] flat = new float[n * spec.size()];
    float[] y = new float[n * 10];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < spec.size(); j++) {
        batch[i][j] = (float) rnd.nextGaussian();
      }
      System.arraycopy(batch[i], 0, flat, i * spec.size(), spec.size());
      y[i * 10 + rnd.nextInt(10)] = 1;
    }
    g.fit(new DataSet(Nd4j.create(flat, new long[] {n, 3, 64, 64}),
        Nd4j.create(y, new long[] {n, 10})));
    unsaturate(g, spec, batch);
    byte[] onnx = new OnnxExporter(spec).toBytes(g);
    try (Dl4jScorer dl4j = new Dl4jScorer(g, spec);
        OnnxScorer ort = new OnnxScorer(onnx, spec, 10)) {
      float[][] expected = dl4j.probabilities(batch);
      assertThat(expected[0][TopP.of(expected[0], 1).classAt(0)]).as("not saturated")
          .isLessThan(0.9f);
      float spread = maxAbsDiff(new float[][] {expected[0]}, new float[][] {expected[1]});
      assertThat(spread).as("the output depends on the image").isGreaterThan(1e-3f);
      float diff = maxAbsDiff(expected, ort.probabilities(batch));
      System.out.printf("ONNX parity resnet-50 at 64x64x3: max abs diff %.3g (images 0 and 1"
          + " differ by %.3g)%n", diff, spread);
      assertThat(diff).isLessThanOrEqualTo(TOLERANCE);
    }
  }

  @Test
  void modelHasTheDocumentedSignatureAndExplicitSamePads() throws Exception {
    ComputationGraph g = Architectures.build("resnet-tiny", SPEC, 10, TrainingConfig.defaults());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new OnnxExporter(SPEC).export(g, out);
    ModelProto m = ModelProto.parseFrom(out.toByteArray());
    assertThat(m.getOpsetImport(0).getVersion()).isEqualTo(OnnxExporter.OPSET);
    assertThat(m.getGraph().getInput(0).getName()).isEqualTo("input");
    assertThat(m.getGraph().getOutput(0).getName()).isEqualTo("probabilities");
    assertThat(m.getGraph().getOutput(1).getName()).isEqualTo(OnnxExporter.EMBEDDING);
    // The stride-2 3x3 conv on 14x14 pads 0 before and 1 after, as DL4J's Same mode does.
    NodeProto down = m.getGraph().getNodeList().stream()
        .filter(n -> n.getName().startsWith("s1b0_a_conv/")).findFirst().orElseThrow();
    var pads = down.getAttributeList().stream().filter(a -> a.getName().equals("pads"))
        .findFirst().orElseThrow().getIntsList();
    assertThat(pads).containsExactly(0L, 0L, 1L, 1L);
  }

  /**
   * Layer options the architectures do not use today but the exporter claims: conv bias,
   * Truncate padding, AVG pooling, BN storing variance (not log std) and with locked gamma/beta,
   * flatten into a dense layer, tanh / leaky ReLU / sigmoid, subtract and product vertices.
   */
  @Test
  void otherSupportedLayerOptionsMatchDl4j() {
    InputSpec spec = new InputSpec(9, 11, 3, new float[] {0, 0, 0}, new float[] {1, 1, 1});
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
        .seed(3).dataType(DataType.FLOAT).updater(new Sgd(0.1))
        .graphBuilder()
        .addInputs("x")
        .setInputTypes(InputType.convolutional(9, 11, 3))
        .addLayer("c1", new ConvolutionLayer.Builder(3, 2).stride(2, 1).padding(1, 1).nOut(4)
            .convolutionMode(ConvolutionMode.Truncate).activation(Activation.TANH).build(), "x")
        .addLayer("bn1", new BatchNormalization.Builder().useLogStd(false).eps(1e-3)
            .activation(Activation.LEAKYRELU).build(), "c1")
        .addLayer("c2", new ConvolutionLayer.Builder(3, 3).nOut(4).dilation(1, 2)
            .convolutionMode(ConvolutionMode.Same).activation(Activation.SIGMOID).build(), "bn1")
        .addLayer("bn2", new BatchNormalization.Builder().lockGammaBeta(true).gamma(1.5)
            .beta(-0.25).build(), "c2")
        .addVertex("sub", new ElementWiseVertex(ElementWiseVertex.Op.Subtract), "bn1", "bn2")
        .addVertex("mul", new ElementWiseVertex(ElementWiseVertex.Op.Product), "sub", "bn1")
        .addLayer("pool", new SubsamplingLayer.Builder(PoolingType.AVG).kernelSize(2, 3)
            .stride(1, 2).convolutionMode(ConvolutionMode.Same).build(), "mul")
        .addLayer("dense", new DenseLayer.Builder().nOut(6).activation(Activation.RELU).build(),
            "pool")
        .addLayer("bnd", new BatchNormalization.Builder().build(), "dense")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(5)
            .activation(Activation.SOFTMAX).build(), "bnd")
        .setOutputs("out")
        .build();
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    Random rnd = new Random(11);
    float[] x = new float[16 * spec.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    float[] y = new float[16 * 5];
    for (int i = 0; i < 16; i++) {
      y[i * 5 + rnd.nextInt(5)] = 1;
    }
    for (int s = 0; s < 3; s++) {
      g.fit(new DataSet(Nd4j.create(x, new long[] {16, 3, 9, 11}),
          Nd4j.create(y, new long[] {16, 5})));
    }
    float[][] batch = new float[16][];
    for (int i = 0; i < 16; i++) {
      batch[i] = java.util.Arrays.copyOfRange(x, i * spec.size(), (i + 1) * spec.size());
    }
    try (Dl4jScorer dl4j = new Dl4jScorer(g, spec);
        OnnxScorer ort = new OnnxScorer(new OnnxExporter(spec).toBytes(g), spec, 5)) {
      float diff = maxAbsDiff(dl4j.probabilities(batch), ort.probabilities(batch));
      assertThat(diff).isLessThanOrEqualTo(TOLERANCE);
    }
  }

  /**
   * DL4J 1.0.0-M2.1's BatchNormalization layer does not apply the activation it is configured
   * with (Architectures' conv-BN(ReLU) blocks therefore have no ReLU there); the export follows
   * DL4J. If a DL4J upgrade changes this, this test says so and the exporter must follow.
   */
  @Test
  void batchNormActivationIsIgnoredLikeDl4jDoes() {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
        .seed(2).dataType(DataType.FLOAT).convolutionMode(ConvolutionMode.Same)
        .graphBuilder()
        .addInputs("x")
        .setInputTypes(InputType.convolutional(6, 6, 1))
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4)
            .activation(Activation.IDENTITY).build(), "x")
        .addLayer("bn", new BatchNormalization.Builder().activation(Activation.RELU).build(),
            "conv")
        .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "bn")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "gap")
        .setOutputs("out")
        .build();
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    var x = Nd4j.randn(DataType.FLOAT, 4, 1, 6, 6);
    var bn = g.feedForward(x, false).get("bn");
    assertThat(bn.minNumber().doubleValue())
        .as("DL4J BatchNormalization(RELU) output has negative values: activation not applied")
        .isLessThan(0.0);
    InputSpec spec = new InputSpec(6, 6, 1, new float[] {0}, new float[] {1});
    float[][] batch = new float[4][];
    for (int i = 0; i < 4; i++) {
      batch[i] = x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i)).dup('c').data().asFloat();
    }
    try (Dl4jScorer dl4j = new Dl4jScorer(g, spec);
        OnnxScorer ort = new OnnxScorer(new OnnxExporter(spec).toBytes(g), spec, 3)) {
      assertThat(maxAbsDiff(dl4j.probabilities(batch), ort.probabilities(batch)))
          .isLessThanOrEqualTo(TOLERANCE);
    }
  }

  @Test
  void unsupportedLayerIsRefusedByNameAndType() {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
        .graphBuilder()
        .addInputs("x")
        .setInputTypes(InputType.convolutional(8, 8, 1))
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(2).build(), "x")
        .addLayer("lrn", new LocalResponseNormalization.Builder().build(), "conv")
        .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "lrn")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "gap")
        .setOutputs("out")
        .build();
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    InputSpec spec = new InputSpec(8, 8, 1, new float[] {0}, new float[] {1});
    assertThatThrownBy(() -> new OnnxExporter(spec).toBytes(g))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Cannot export vertex 'lrn' to ONNX: LocalResponseNormalization"
            + " is not supported");

    ComputationGraphConfiguration merge = new NeuralNetConfiguration.Builder()
        .graphBuilder()
        .addInputs("x")
        .setInputTypes(InputType.convolutional(8, 8, 1))
        .addLayer("a", new ConvolutionLayer.Builder(3, 3).nOut(2).build(), "x")
        .addVertex("cat", new MergeVertex(), "a", "x")
        .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "cat")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "gap")
        .setOutputs("out")
        .build();
    ComputationGraph gm = new ComputationGraph(merge);
    gm.init();
    assertThatThrownBy(() -> new OnnxExporter(spec).toBytes(gm))
        .hasMessageContaining("'cat'").hasMessageContaining("MergeVertex vertex is not supported");
  }

  @Test
  void outputMustBeSoftmaxProbabilities() {
    ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
        .graphBuilder()
        .addInputs("x")
        .setInputTypes(InputType.convolutional(4, 4, 1))
        .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.MAX).build(), "x")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(3)
            .activation(Activation.IDENTITY).build(), "gap")
        .setOutputs("out")
        .build();
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    InputSpec spec = new InputSpec(4, 4, 1, new float[] {0}, new float[] {1});
    assertThatThrownBy(() -> new OnnxExporter(spec).toBytes(g))
        .hasMessageContaining("'out'").hasMessageContaining("not softmax");
  }

  @Test
  void bundleExportsOnTheFlyAndFromFilesRoundTrips(@TempDir Path tmp) throws Exception {
    ComputationGraph g = Architectures.build("resnet-tiny", SPEC, 10, TrainingConfig.defaults());
    ModelMetadata meta = new ModelMetadata("teacher-1", "resnet-tiny", FashionMnist.CLASS_NAMES,
        SPEC, 42, Map.of("dataset", "fashion-mnist"));
    ModelBundle bundle = new ModelBundle(g, meta);
    Path onnx = tmp.resolve("teacher.onnx");
    Path json = tmp.resolve("teacher.json");
    Files.write(onnx, OnnxExporter.toBytes(bundle));
    Files.writeString(json, meta.toJson());

    Random rnd = new Random(5);
    float[][] batch = new float[7][SPEC.size()];
    for (float[] row : batch) {
      for (int i = 0; i < row.length; i++) {
        row[i] = (float) rnd.nextGaussian();
      }
    }
    try (OnnxScorer fly = OnnxScorer.of(bundle);
        OnnxScorer files = OnnxScorer.fromFiles(onnx, json,
            OnnxScorer.Options.defaults().withIntraOpThreads(1));
        Dl4jScorer dl4j = Dl4jScorer.of(bundle)) {
      assertThat(files.numClasses()).isEqualTo(10);
      assertThat(files.spec()).isEqualTo(SPEC);
      assertThat(files.onCuda()).isFalse();
      float[][] a = fly.probabilities(batch);
      assertThat(files.probabilities(batch)).isDeepEqualTo(a);
      assertThat(maxAbsDiff(a, dl4j.probabilities(batch))).isLessThanOrEqualTo(TOLERANCE);
      assertThat(files.score(batch, 2).get(3)).isEqualTo(TopP.of(a[3], 2));
      // batch of one, then an empty batch, then a larger one: the buffer adapts
      assertThat(files.probabilities(new float[][] {batch[2]})[0]).containsExactly(a[2]);
      assertThat(files.probabilities(new float[0][])).isEmpty();
    }
  }

  @Test
  void metadataThatDoesNotFitTheModelIsRefused(@TempDir Path tmp) throws Exception {
    ComputationGraph g = Architectures.build("resnet-tiny", SPEC, 10, TrainingConfig.defaults());
    Path onnx = tmp.resolve("m.onnx");
    Files.write(onnx, new OnnxExporter(SPEC).toBytes(g));
    ModelMetadata wrongClasses = new ModelMetadata("m", "resnet-tiny",
        FashionMnist.CLASS_NAMES.subList(0, 9), SPEC, 1, null);
    Path json = tmp.resolve("m.json");
    Files.writeString(json, wrongClasses.toJson());
    assertThatThrownBy(() -> OnnxScorer.fromFiles(onnx, json))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("m.onnx").hasMessageContaining("output 'probabilities'")
        .hasMessageContaining("9 classes");

    ModelMetadata wrongSize = new ModelMetadata("m", "resnet-tiny", FashionMnist.CLASS_NAMES,
        SPEC.withSize(32, 32), 1, null);
    Files.writeString(json, wrongSize.toJson());
    assertThatThrownBy(() -> OnnxScorer.fromFiles(onnx, json))
        .hasMessageContaining("input 'input' has shape [-1, 1, 28, 28]");

    Files.writeString(json, "{not json");
    assertThatThrownBy(() -> OnnxScorer.fromFiles(onnx, json))
        .hasMessageContaining("Cannot read model metadata");
    Files.write(onnx, new byte[] {1, 2, 3});
    Files.writeString(json, wrongSize.toJson());
    assertThatThrownBy(() -> OnnxScorer.fromFiles(onnx, json))
        .hasMessageContaining("Cannot load the ONNX model");
  }

  @Test
  void checkValidatesWithoutPreparingTheModel() {
    ComputationGraph g = Architectures.build("resnet-tiny", SPEC, 10, TrainingConfig.defaults());
    byte[] onnx = new OnnxExporter(SPEC).toBytes(g);
    OnnxScorer.check(onnx, SPEC, 10);
    assertThatThrownBy(() -> OnnxScorer.check(onnx, SPEC, 9))
        .hasMessageContaining("output 'probabilities' has shape [-1, 10]");
    assertThatThrownBy(() -> OnnxScorer.check(new byte[] {1, 2}, SPEC, 10))
        .hasMessageContaining("Cannot load the ONNX model");
  }

  @Test
  void closedScorerRefusesWork() {
    ComputationGraph g = Architectures.build("resnet-tiny", SPEC, 10, TrainingConfig.defaults());
    OnnxScorer s = new OnnxScorer(new OnnxExporter(SPEC).toBytes(g), SPEC, 10);
    assertThatThrownBy(() -> s.probabilities(new float[][] {new float[3]}))
        .hasMessageStartingWith("Cannot score image 0 of the batch: its tensor has 3 values");
    s.close();
    s.close();
    assertThatThrownBy(() -> s.probabilities(new float[1][SPEC.size()]))
        .hasMessageContaining("closed");
  }
}
