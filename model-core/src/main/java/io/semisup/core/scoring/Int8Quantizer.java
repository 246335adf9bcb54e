package io.semisup.core.scoring;

import io.semisup.core.image.InputSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.TensorProto;
import org.nd4j.shade.protobuf.ByteString;
import org.nd4j.shade.protobuf.InvalidProtocolBufferException;

/**
 * Turns the FP32 ONNX model {@link OnnxExporter} writes into an INT8 QDQ model that ONNX Runtime's
 * CPU provider runs with integer kernels (QLinearConv, QGemm, QLinearAdd, QLinearGlobalAveragePool;
 * VNNI's u8 x s8 dot products on CPUs that have them). Scoring is the pipeline's one pass over
 * the whole pool, and on the CPU it is bound by FP32 arithmetic; INT8 does the same multiply-adds
 * at several times the rate.
 *
 * <p>What it writes (the layout ONNX Runtime's own quantization tool writes, which its graph
 * optimizer recognizes and fuses):
 *
 * <ul>
 *   <li>BatchNormalization folded into the Conv before it (a Q/DQ pair between them would stop
 *       the fusion);
 *   <li>weights of Conv and Gemm as INT8, symmetric (zero point 0), one scale per output channel
 *       (Conv: axis 0; Gemm: the output column), behind a DequantizeLinear; biases as INT32 with
 *       scale input scale x weight scale;
 *   <li>activations as UINT8 with a zero point (u8 x s8 is the VNNI instruction's form, and
 *       on a VNNI CPU no 7-bit {@code reduce_range} is needed: it only avoids the saturation of
 *       the AVX2 u8 x s8 path): a QuantizeLinear/DequantizeLinear pair on every input of Conv,
 *       Gemm, Add and the pooling ops, and on their outputs; a Relu right after such an op is
 *       quantized at its own output (its range starts at 0, so ONNX Runtime drops the Relu into
 *       the quantization); MaxPool and Flatten keep their input's scale (ONNX Runtime then runs
 *       them on the UINT8 values);
 *   <li>the last Gemm's output (the logits) and the Softmax stay FP32.
 * </ul>
 *
 * Activation ranges come from {@link ActivationCalibration} on sample images. Only the operators
 * {@link OnnxExporter} writes are handled; any other stays FP32, between dequantized tensors.
 *
 * <p>Immutable and thread-safe.
 */
public final class Int8Quantizer {

  /** Producer name of the models this class writes ({@link #isQuantized}). */
  public static final String PRODUCER = "semisup-int8";

  /** Ops whose activation inputs are quantized. */
  private static final Set<String> QUANTIZED_INPUTS =
      Set.of("Conv", "Gemm", "Add", "MaxPool", "AveragePool", "GlobalAveragePool");
  /** Ops whose output is quantized (or the output of the Relu right after them). */
  private static final Set<String> QUANTIZED_OUTPUTS =
      Set.of("Conv", "Add", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten");
  /** Ops whose output keeps its input's quantization (they only move or pick values). */
  private static final Set<String> PASS_THROUGH = Set.of("MaxPool", "Flatten");

  private final ActivationCalibration.Method method;
  private final double percentile;
  private final int batch;

  /**
   * @param method how activation ranges are calibrated
   * @param percentile for the percentile method, e.g. 99.999
   * @param batch images per calibration inference
   */
  public Int8Quantizer(ActivationCalibration.Method method, double percentile, int batch) {
    this.method = Objects.requireNonNull(method, "method");
    this.percentile = percentile;
    this.batch = batch;
  }

  /** Min/max calibration, batches of 8. */
  public static Int8Quantizer defaults() {
    return new Int8Quantizer(ActivationCalibration.Method.MINMAX, 99.999, 8);
  }

  /** Whether {@code onnx} is a model this class wrote. */
  public static boolean isQuantized(byte[] onnx) {
    return parse(onnx).getProducerName().equals(PRODUCER);
  }

  /**
   * The INT8 QDQ model of {@code fp32}, calibrated on {@code images}.
   *
   * @param fp32 a model {@link OnnxExporter} wrote
   * @param images CHW tensors of {@code spec}, preprocessed as for scoring (a sample of the
   *     images the model will score)
   */
  public byte[] quantize(byte[] fp32, float[][] images, InputSpec spec) {
    ModelProto folded = foldBatchNorm(parse(fp32));
    Plan plan = plan(folded.getGraph());
    Map<String, ActivationCalibration.Range> ranges = ActivationCalibration.measure(
        folded, new ArrayList<>(plan.calibrated), images, spec, method, percentile, batch);
    return rewrite(folded, plan, ranges).toByteArray();
  }

  private static ModelProto parse(byte[] onnx) {
    try {
      return ModelProto.parseFrom(onnx);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("Cannot read the ONNX model (" + onnx.length + " bytes): "
          + e.getMessage(), e);
    }
  }

  // ---- batch norm folding ----

  /** Folds each BatchNormalization that is a Conv's only consumer into that Conv's weights. */
  static ModelProto foldBatchNorm(ModelProto model) {
    GraphProto g = model.getGraph();
    Map<String, TensorProto> inits = initializers(g);
    Map<String, List<NodeProto>> consumers = consumers(g);
    Map<String, NodeProto> producer = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      n.getOutputList().forEach(o -> producer.put(o, n));
    }
    Map<NodeProto, NodeProto> foldedConv = new HashMap<>();
    Set<NodeProto> dropped = new HashSet<>();
    List<TensorProto> added = new ArrayList<>();
    Set<String> replaced = new HashSet<>();
    for (NodeProto bn : g.getNodeList()) {
      if (!bn.getOpType().equals("BatchNormalization")) {
        continue;
      }
      NodeProto conv = producer.get(bn.getInput(0));
      if (conv == null || !conv.getOpType().equals("Conv")
          || consumers.get(bn.getInput(0)).size() != 1 || !inits.containsKey(conv.getInput(1))) {
        continue;
      }
      float eps = 1e-5f;
      for (AttributeProto a : bn.getAttributeList()) {
        if (a.getName().equals("epsilon")) {
          eps = a.getF();
        }
      }
      float[] gamma = floats(inits.get(bn.getInput(1)));
      float[] beta = floats(inits.get(bn.getInput(2)));
      float[] mean = floats(inits.get(bn.getInput(3)));
      float[] var = floats(inits.get(bn.getInput(4)));
      TensorProto wt = inits.get(conv.getInput(1));
      float[] w = floats(wt);
      int out = (int) wt.getDims(0);
      int per = w.length / out;
      float[] b = conv.getInputCount() > 2 ? floats(inits.get(conv.getInput(2))) : new float[out];
      float[] nb = new float[out];
      for (int o = 0; o < out; o++) {
        float k = (float) (gamma[o] / Math.sqrt(var[o] + eps));
        for (int i = 0; i < per; i++) {
          w[o * per + i] *= k;
        }
        nb[o] = (b[o] - mean[o]) * k + beta[o];
      }
      String wName = conv.getInput(1) + "/bn-folded";
      String bName = conv.getName() + "/b/bn-folded";
      added.add(floatTensor(wName, w, wt.getDimsList()));
      added.add(floatTensor(bName, nb, List.of((long) out)));
      replaced.add(conv.getInput(1));
      if (conv.getInputCount() > 2) {
        replaced.add(conv.getInput(2));
      }
      for (int i = 1; i < 5; i++) {
        replaced.add(bn.getInput(i));
      }
      NodeProto.Builder c = conv.toBuilder().setInput(1, wName).setOutput(0, bn.getOutput(0));
      if (c.getInputCount() > 2) {
        c.setInput(2, bName);
      } else {
        c.addInput(bName);
      }
      foldedConv.put(conv, c.build());
      dropped.add(bn);
    }
    GraphProto.Builder ng = g.toBuilder().clearNode().clearInitializer();
    for (NodeProto n : g.getNodeList()) {
      if (!dropped.contains(n)) {
        ng.addNode(foldedConv.getOrDefault(n, n));
      }
    }
    for (TensorProto t : g.getInitializerList()) {
      if (!replaced.contains(t.getName())) {
        ng.addInitializer(t);
      }
    }
    ng.addAllInitializer(added);
    return model.toBuilder().setGraph(ng).build();
  }

  // ---- which tensors ----

  /**
   * The activation tensors to quantize ({@code quantized}, in graph order), those whose range is
   * calibrated, and for pass-through outputs the tensor whose parameters they share.
   */
  record Plan(Set<String> quantized, Set<String> calibrated, Map<String, String> sharesWith) {}

  static Plan plan(GraphProto g) {
    Set<String> inits = initializers(g).keySet();
    Map<String, List<NodeProto>> consumers = consumers(g);
    Set<String> graphOutputs = new HashSet<>();
    g.getOutputList().forEach(o -> graphOutputs.add(o.getName()));
    Set<String> quantized = new LinkedHashSet<>();
    Map<String, String> sharesWith = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      String op = n.getOpType();
      if (QUANTIZED_INPUTS.contains(op)) {
        for (String in : n.getInputList()) {
          if (!in.isEmpty() && !inits.contains(in)) {
            quantized.add(in);
          }
        }
      }
      if (QUANTIZED_OUTPUTS.contains(op)
          && (!PASS_THROUGH.contains(op) || quantized.contains(n.getInput(0)))) {
        String out = n.getOutput(0);
        List<NodeProto> next = consumers.getOrDefault(out, List.of());
        if (graphOutputs.contains(out)) {
          continue;
        }
        if (next.size() == 1 && next.get(0).getOpType().equals("Relu")
            && !PASS_THROUGH.contains(op)) {
          quantized.add(next.get(0).getOutput(0));
        } else if (!next.isEmpty()) {
          quantized.add(out);
          if (PASS_THROUGH.contains(op)) {
            sharesWith.put(out, n.getInput(0));
          }
        }
      }
    }
    // A pass-through op's input may itself share parameters: follow the chain to its source.
    Map<String, String> roots = new HashMap<>();
    for (Map.Entry<String, String> e : sharesWith.entrySet()) {
      String src = e.getValue();
      while (sharesWith.containsKey(src)) {
        src = sharesWith.get(src);
      }
      roots.put(e.getKey(), src);
    }
    Set<String> calibrated = new LinkedHashSet<>();
    for (String t : quantized) {
      calibrated.add(roots.getOrDefault(t, t));
    }
    return new Plan(quantized, calibrated, roots);
  }

  // ---- the QDQ graph ----

  private static ModelProto rewrite(ModelProto model, Plan plan,
      Map<String, ActivationCalibration.Range> ranges) {
    GraphProto g = model.getGraph();
    Map<String, TensorProto> inits = initializers(g);
    GraphProto.Builder ng = g.toBuilder().clearNode();
    Map<String, float[]> scaleOf = new HashMap<>();
    for (String t : plan.quantized()) {
      ActivationCalibration.Range r = ranges.get(plan.sharesWith().getOrDefault(t, t));
      float lo = Math.min(0f, r.min());
      float hi = Math.max(0f, r.max());
      float scale = (hi - lo) / 255f;
      if (!(scale > 0) || Float.isInfinite(scale)) {
        scale = 1f;
      }
      int zp = Math.max(0, Math.min(255, Math.round(-lo / scale)));
      scaleOf.put(t, new float[] {scale, zp});
      ng.addInitializer(floatTensor(scaleName(t), new float[] {scale}, List.of()));
      ng.addInitializer(TensorProto.newBuilder().setName(zpName(t))
          .setDataType(TensorProto.DataType.UINT8_VALUE)
          .setRawData(ByteString.copyFrom(new byte[] {(byte) zp})).build());
    }
    int[] dqCount = {0};
    for (String t : plan.quantized()) {
      if (isGraphInput(g, t)) {
        addQ(ng, t);
      }
    }
    for (NodeProto n : g.getNodeList()) {
      NodeProto.Builder nb = n.toBuilder();
      for (int i = 0; i < n.getInputCount(); i++) {
        String in = n.getInput(i);
        if (plan.quantized().contains(in)) {
          String dq = in + "/dq" + dqCount[0]++;
          ng.addNode(NodeProto.newBuilder().setOpType("DequantizeLinear").setName(dq)
              .addInput(in + "/q").addInput(scaleName(in)).addInput(zpName(in)).addOutput(dq));
          nb.setInput(i, dq);
        }
      }
      String op = n.getOpType();
      if ((op.equals("Conv") || op.equals("Gemm")) && plan.quantized().contains(n.getInput(0))
          && inits.containsKey(n.getInput(1))) {
        quantizeWeights(ng, nb, n, inits, scaleOf.get(n.getInput(0))[0]);
      }
      ng.addNode(nb);
      for (String out : n.getOutputList()) {
        if (plan.quantized().contains(out)) {
          addQ(ng, out);
        }
      }
    }
    // The FP32 weights and biases the INT8 ones replace.
    Set<String> used = new HashSet<>();
    ng.getNodeList().forEach(n -> used.addAll(n.getInputList()));
    List<TensorProto> kept = new ArrayList<>();
    for (TensorProto t : ng.getInitializerList()) {
      if (used.contains(t.getName())) {
        kept.add(t);
      }
    }
    ng.clearInitializer().addAllInitializer(kept);
    return model.toBuilder().setProducerName(PRODUCER).setProducerVersion("1").setGraph(ng).build();
  }

  private static boolean isGraphInput(GraphProto g, String t) {
    return g.getInputList().stream().anyMatch(v -> v.getName().equals(t));
  }

  private static void addQ(GraphProto.Builder ng, String t) {
    ng.addNode(NodeProto.newBuilder().setOpType("QuantizeLinear").setName(t + "/quantize")
        .addInput(t).addInput(scaleName(t)).addInput(zpName(t)).addOutput(t + "/q"));
  }

  private static String scaleName(String t) {
    return t + "/scale";
  }

  private static String zpName(String t) {
    return t + "/zero_point";
  }

  /**
   * Replaces the node's weight (and bias) inputs by INT8 (INT32) initializers behind
   * DequantizeLinear nodes: symmetric, one scale per output channel.
   */
  private static void quantizeWeights(GraphProto.Builder ng, NodeProto.Builder nb, NodeProto n,
      Map<String, TensorProto> inits, float inputScale) {
    TensorProto wt = inits.get(n.getInput(1));
    float[] w = floats(wt);
    boolean gemm = n.getOpType().equals("Gemm");
    boolean transB = gemm && n.getAttributeList().stream()
        .anyMatch(a -> a.getName().equals("transB") && a.getI() == 1);
    // Output channel: axis 0 of a Conv's OIHW weight and of a transposed Gemm weight [N, K];
    // axis 1 (the column) of a plain Gemm weight [K, N].
    int axis = gemm && !transB ? 1 : 0;
    int channels = (int) wt.getDims(axis);
    int rows = (int) wt.getDims(0);
    int inner = w.length / rows;
    float[] maxAbs = new float[channels];
    for (int i = 0; i < w.length; i++) {
      int c = axis == 0 ? i / inner : i % inner;
      maxAbs[c] = Math.max(maxAbs[c], Math.abs(w[i]));
    }
    float[] scale = new float[channels];
    for (int c = 0; c < channels; c++) {
      scale[c] = maxAbs[c] > 0 ? maxAbs[c] / 127f : 1f;
    }
    byte[] q = new byte[w.length];
    for (int i = 0; i < w.length; i++) {
      int c = axis == 0 ? i / inner : i % inner;
      q[i] = (byte) Math.max(-127, Math.min(127, Math.round(w[i] / scale[c])));
    }
    String base = n.getInput(1);
    ng.addInitializer(TensorProto.newBuilder().setName(base + "/int8")
        .setDataType(TensorProto.DataType.INT8_VALUE).addAllDims(wt.getDimsList())
        .setRawData(ByteString.copyFrom(q)));
    ng.addInitializer(floatTensor(base + "/w_scale", scale, List.of((long) channels)));
    ng.addInitializer(TensorProto.newBuilder().setName(base + "/w_zero_point")
        .setDataType(TensorProto.DataType.INT8_VALUE).addDims(channels)
        .setRawData(ByteString.copyFrom(new byte[channels])));
    ng.addNode(NodeProto.newBuilder().setOpType("DequantizeLinear").setName(base + "/dequantize")
        .addInput(base + "/int8").addInput(base + "/w_scale").addInput(base + "/w_zero_point")
        .addOutput(base + "/dq").addAttribute(AttributeProto.newBuilder().setName("axis")
            .setType(AttributeProto.AttributeType.INT).setI(axis)));
    nb.setInput(1, base + "/dq");
    if (n.getInputCount() > 2 && inits.containsKey(n.getInput(2))) {
      float[] b = floats(inits.get(n.getInput(2)));
      if (b.length != channels) {
        return; // a broadcast Gemm bias: left FP32
      }
      float[] bs = new float[channels];
      ByteBuffer bq = ByteBuffer.allocate(4 * channels).order(ByteOrder.LITTLE_ENDIAN);
      for (int c = 0; c < channels; c++) {
        bs[c] = inputScale * scale[c];
        bq.putInt((int) Math.max(Integer.MIN_VALUE + 1L,
            Math.min(Integer.MAX_VALUE, Math.round((double) b[c] / bs[c]))));
      }
      String bb = n.getInput(2);
      ng.addInitializer(TensorProto.newBuilder().setName(bb + "/int32")
          .setDataType(TensorProto.DataType.INT32_VALUE).addDims(channels)
          .setRawData(ByteString.copyFrom(bq.array())));
      ng.addInitializer(floatTensor(bb + "/b_scale", bs, List.of((long) channels)));
      ng.addInitializer(TensorProto.newBuilder().setName(bb + "/b_zero_point")
          .setDataType(TensorProto.DataType.INT32_VALUE).addDims(channels)
          .setRawData(ByteString.copyFrom(new byte[4 * channels])));
      ng.addNode(NodeProto.newBuilder().setOpType("DequantizeLinear").setName(bb + "/dequantize")
          .addInput(bb + "/int32").addInput(bb + "/b_scale").addInput(bb + "/b_zero_point")
          .addOutput(bb + "/dq").addAttribute(AttributeProto.newBuilder().setName("axis")
              .setType(AttributeProto.AttributeType.INT).setI(0)));
      nb.setInput(2, bb + "/dq");
    }
  }

  // ---- protobuf helpers ----

  private static Map<String, TensorProto> initializers(GraphProto g) {
    Map<String, TensorProto> m = new HashMap<>();
    g.getInitializerList().forEach(t -> m.put(t.getName(), t));
    return m;
  }

  private static Map<String, List<NodeProto>> consumers(GraphProto g) {
    Map<String, List<NodeProto>> m = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      for (String in : n.getInputList()) {
        m.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      }
    }
    return m;
  }

  /** A float initializer's values (raw little-endian data or the float_data field). */
  static float[] floats(TensorProto t) {
    if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
      throw new IllegalArgumentException("Cannot quantize: initializer '" + t.getName()
          + "' is not FLOAT");
    }
    if (!t.getRawData().isEmpty()) {
      float[] a = new float[t.getRawData().size() / 4];
      t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(a);
      return a;
    }
    float[] a = new float[t.getFloatDataCount()];
    for (int i = 0; i < a.length; i++) {
      a[i] = t.getFloatData(i);
    }
    return a;
  }

  private static TensorProto floatTensor(String name, float[] values, List<Long> dims) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(values);
    return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addAllDims(dims).setRawData(ByteString.copyFrom(buf.array())).build();
  }
}
