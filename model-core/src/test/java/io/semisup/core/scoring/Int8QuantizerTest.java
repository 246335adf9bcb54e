package io.semisup.core.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.testing.Prerequisites;
import io.semisup.core.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.TensorProto;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The INT8 model of a trained network ranks real images as the FP32 one does, and has the
 * structure ONNX Runtime fuses into integer kernels.
 */
class Int8QuantizerTest {

  private static final InputSpec SPEC = FashionMnist.INPUT_SPEC;

  private static byte[] fp32;
  private static byte[] int8;
  private static float[][] test;

  /** resnet-small, 150 SGD steps of 32 real training images (about 80% accurate), quantized. */
  @BeforeAll
  static void trainAndQuantize() {
    Prerequisites.fashionMnist();
    FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, true);
    FashionMnist held = FashionMnist.load(FashionMnist.DEFAULT_DIR, false);
    ComputationGraph g = Architectures.build("resnet-small", SPEC, 10,
        TrainingConfig.defaults().withSeed(11));
    int batch = 32;
    for (int s = 0; s < 150; s++) {
      int[] idx = range(s * batch, batch);
      float[][] x = train.chw(idx, SPEC);
      int[] y = train.labels(idx);
      float[] flat = new float[batch * SPEC.size()];
      float[] oneHot = new float[batch * 10];
      for (int i = 0; i < batch; i++) {
        System.arraycopy(x[i], 0, flat, i * SPEC.size(), SPEC.size());
        oneHot[i * 10 + y[i]] = 1f;
      }
      g.fit(new DataSet(Nd4j.create(flat, new long[] {batch, 1, 28, 28}),
          Nd4j.create(oneHot, new long[] {batch, 10})));
    }
    fp32 = new OnnxExporter(SPEC).toBytes(g);
    // Calibration on training images the test never scores, as score samples the pool.
    float[][] calibration = train.chw(range(20_000, 128), SPEC);
    int8 = Int8Quantizer.defaults().quantize(fp32, calibration, SPEC);
    test = held.chw(range(0, 1000), SPEC);
  }

  private static int[] range(int from, int n) {
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) {
      idx[i] = from + i;
    }
    return idx;
  }

  @Test
  void int8AgreesWithFp32OnRealImages() {
    float[][] a;
    float[][] b;
    try (OnnxScorer f = new OnnxScorer(fp32, SPEC, 10); OnnxScorer q = new OnnxScorer(int8, SPEC, 10)) {
      a = f.probabilities(test);
      b = q.probabilities(test);
    }
    int same = 0;
    double maxDiff = 0;
    for (int i = 0; i < a.length; i++) {
      same += TopP.of(a[i], 1).classAt(0) == TopP.of(b[i], 1).classAt(0) ? 1 : 0;
      for (int c = 0; c < 10; c++) {
        maxDiff = Math.max(maxDiff, Math.abs(a[i][c] - b[i][c]));
      }
    }
    double agreement = same / (double) a.length;
    System.out.printf("INT8 vs FP32 on %d Fashion-MNIST test images: top-1 agreement %.4f,"
        + " max |p diff| %.3f; %d -> %d bytes%n", a.length, agreement, maxDiff, fp32.length, int8.length);
    assertThat(agreement).isGreaterThanOrEqualTo(0.99);
    assertThat(maxDiff).as("INT8 is not FP32 in disguise").isGreaterThan(0.0);
  }

  @Test
  void weightsAreInt8PerChannelAndBatchNormIsFolded() throws Exception {
    ModelProto m = ModelProto.parseFrom(int8);
    assertThat(Int8Quantizer.isQuantized(int8)).isTrue();
    assertThat(Int8Quantizer.isQuantized(fp32)).isFalse();
    Map<String, TensorProto> inits = new HashMap<>();
    m.getGraph().getInitializerList().forEach(t -> inits.put(t.getName(), t));
    Map<String, NodeProto> producer = new HashMap<>();
    m.getGraph().getNodeList().forEach(n -> producer.put(n.getOutput(0), n));
    int convs = 0;
    for (NodeProto n : m.getGraph().getNodeList()) {
      assertThat(n.getOpType()).isNotEqualTo("BatchNormalization");
      if (!n.getOpType().equals("Conv") && !n.getOpType().equals("Gemm")) {
        continue;
      }
      convs++;
      NodeProto x = producer.get(n.getInput(0));
      NodeProto w = producer.get(n.getInput(1));
      assertThat(x.getOpType()).as("%s input", n.getName()).isEqualTo("DequantizeLinear");
      assertThat(inits.get(x.getInput(2)).getDataType()).isEqualTo(TensorProto.DataType.UINT8_VALUE);
      assertThat(w.getOpType()).as("%s weight", n.getName()).isEqualTo("DequantizeLinear");
      TensorProto q = inits.get(w.getInput(0));
      assertThat(q.getDataType()).isEqualTo(TensorProto.DataType.INT8_VALUE);
      long axis = w.getAttributeList().stream().filter(a -> a.getName().equals("axis"))
          .findFirst().orElseThrow().getI();
      long channels = n.getOpType().equals("Conv") ? q.getDims(0) : q.getDims(1);
      assertThat(inits.get(w.getInput(1)).getDims(0)).as("one scale per output channel")
          .isEqualTo(channels);
      assertThat(q.getDims((int) axis)).isEqualTo(channels);
      if (n.getInputCount() > 2) {
        NodeProto b = producer.get(n.getInput(2));
        assertThat(inits.get(b.getInput(0)).getDataType()).isEqualTo(TensorProto.DataType.INT32_VALUE);
      }
    }
    assertThat(convs).isGreaterThan(5);
    assertThat(producer.get(OnnxExporter.OUTPUT).getOpType()).as("softmax stays FP32")
        .isEqualTo("Softmax");
    // The embedding output (the pooled features) leaves the graph as FP32, dequantized once.
    NodeProto embedding = producer.get(OnnxExporter.EMBEDDING);
    assertThat(embedding.getOpType()).isEqualTo("Identity");
    assertThat(producer.get(embedding.getInput(0)).getOpType()).isEqualTo("DequantizeLinear");
  }

  /** ONNX Runtime's optimizer turns the QDQ groups into integer kernels: no FP32 Conv is left. */
  @Test
  void onnxRuntimeFusesTheQdqGroupsIntoIntegerKernels(@TempDir Path dir) throws Exception {
    Map<String, Integer> ops = optimizedOps(int8, dir);
    System.out.println("ONNX Runtime's optimized INT8 graph: " + ops);
    assertThat(ops).containsKey("QLinearConv").doesNotContainKey("Conv")
        .doesNotContainKey("FusedConv");
    assertThat(ops.get("DequantizeLinear")).as("only the FP32 embedding output is dequantized")
        .isEqualTo(1);
  }

  /** The same for ResNet-50's bottleneck blocks, stride-2 and projection convolutions (at 64x64). */
  @Test
  void resnet50IsFusedToo(@TempDir Path dir) throws Exception {
    InputSpec spec = new InputSpec(64, 64, 3, new float[] {0.485f, 0.456f, 0.406f},
        new float[] {0.229f, 0.224f, 0.225f});
    ComputationGraph g = Architectures.build(Architectures.RESNET_50, spec, 10,
        TrainingConfig.defaults().withSeed(5));
    java.util.Random rnd = new java.util.Random(8);
    float[][] x = new float[4][spec.size()];
    for (float[] row : x) {
      for (int j = 0; j < row.length; j++) {
        row[j] = (float) rnd.nextGaussian();
      }
    }
    byte[] q = Int8Quantizer.defaults().quantize(new OnnxExporter(spec).toBytes(g), x, spec);
    Map<String, Integer> ops = optimizedOps(q, dir);
    System.out.println("ONNX Runtime's optimized INT8 ResNet-50: " + ops);
    assertThat(ops.get("QLinearConv")).isEqualTo(53);
    assertThat(ops).doesNotContainKey("Conv").doesNotContainKey("FusedConv")
        .containsEntry("DequantizeLinear", 1).containsEntry("QLinearAdd", 16);
  }

  private static Map<String, Integer> optimizedOps(byte[] model, Path dir) throws Exception {
    Path optimized = dir.resolve("optimized.onnx");
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      so.setOptimizedModelFilePath(optimized.toString());
      OrtEnvironment.getEnvironment().createSession(model, so).close();
    }
    Map<String, Integer> ops = new HashMap<>();
    for (NodeProto n : ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph().getNodeList()) {
      ops.merge(n.getOpType(), 1, Integer::sum);
    }
    return ops;
  }
}
