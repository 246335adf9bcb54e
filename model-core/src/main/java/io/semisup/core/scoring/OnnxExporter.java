package io.semisup.core.scoring;

import io.semisup.core.image.InputSpec;
import io.semisup.core.model.ModelBundle;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.OperatorSetIdProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import io.semisup.core.model.GemPooling;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a trained DL4J {@link ComputationGraph} as an ONNX model, so the scoring stage can run
 * it with ONNX Runtime ({@link OnnxScorer}), which measured about ten times DL4J's CPU throughput
 * on the same network. Training stays in DL4J; only inference changes engine, and the exported
 * model is checked against DL4J's own output (OnnxExporterTest: max abs difference 1e-4).
 *
 * <p>Uses the ONNX protobuf classes that nd4j-api already ships ({@code onnx.Onnx}), so export
 * needs no extra dependency. The model has one input {@value #INPUT} (float NCHW, batch
 * dimension symbolic, height/width/channels fixed by the {@link InputSpec}), the output
 * {@value #OUTPUT} (float [batch, classes], softmax) and, for graphs with a global pooling layer
 * named as {@code Architectures} names it, a second output {@value #EMBEDDING} (the pooled
 * features), opset {@value #OPSET}.
 *
 * <p>Inference semantics only (what {@code graph.output(false, x)} computes): dropout and weight
 * noise are dropped, batch normalization uses its running mean and variance. Supported vertices
 * are exactly those the project's architectures use plus a few trivial neighbours:
 *
 * <ul>
 *   <li>{@code ConvolutionLayer} (NCHW, any kernel/stride/dilation, modes Same, Truncate and
 *       Strict; Same gets explicit asymmetric pads computed like DL4J: extra row/column at the
 *       bottom/right),
 *   <li>{@code BatchNormalization} (running statistics; either stored as variance or, DL4J's
 *       default, as log10 of the standard deviation). Its configured activation is ignored,
 *       because DL4J 1.0.0-M2.1 ignores it too: the layer's {@code activate} returns the
 *       normalized values without applying it (measured: a conv-BN(ReLU) graph outputs negative
 *       values). A warning names such layers,
 *   <li>{@code SubsamplingLayer} MAX or AVG, {@code GlobalPoolingLayer} AVG or MAX, {@code
 *       GemPooling} (Max with eps, Pow p, GlobalAveragePool, Pow 1/p, Flatten),
 *   <li>{@code DenseLayer}, {@code OutputLayer} (softmax; it must be the graph's only output),
 *   <li>{@code ActivationLayer}, {@code ElementWiseVertex} (Add, Subtract, Product, Average, Max),
 *   <li>activations identity, ReLU (plain), leaky ReLU, sigmoid, tanh, softmax; and the
 *       {@code CnnToFeedForwardPreProcessor} (NCHW flatten) DL4J inserts between conv and dense.
 * </ul>
 *
 * Anything else is refused with an {@link IllegalArgumentException} naming the vertex and its
 * type, rather than exported with silently different semantics.
 *
 * <p>Not thread-safe per call; instances are immutable and may be shared.
 */
public final class OnnxExporter {
  private static final Logger LOG = LoggerFactory.getLogger(OnnxExporter.class);

  /** Name of the model's input tensor (float NCHW). */
  public static final String INPUT = "input";

  /** Name of the model's output tensor (float [batch, classes], softmax probabilities). */
  public static final String OUTPUT = "probabilities";

  /**
   * Name of the model's second output (float [batch, features]): the raw pooled features of the
   * layer {@link io.semisup.core.model.Architectures#POOL}, the image embedding that the dedup
   * stage compares (L2-normalised by the reader). Present when the graph has that layer with a
   * flat output; ONNX Runtime computes it anyway on the way to the classifier, so a caller that
   * does not ask for it pays nothing, and one that does pays a copy of its values.
   */
  public static final String EMBEDDING = "embedding";

  /** ONNX operator set the model declares. */
  public static final int OPSET = 13;

  /** IR version matching {@link #OPSET} (ONNX 1.8). */
  static final long IR_VERSION = 7;

  private final InputSpec input;

  /**
   * @param input the tensor the graph takes; fixes the model's channel count and spatial size,
   *     which the explicit padding of Same-mode convolutions depends on
   */
  public OnnxExporter(InputSpec input) {
    this.input = Objects.requireNonNull(input, "input");
  }

  /** The model of a bundle, with the bundle's input spec. */
  public static byte[] toBytes(ModelBundle bundle) {
    return new OnnxExporter(bundle.metadata().input()).toBytes(bundle.graph());
  }

  /** Writes the ONNX model of {@code g} to {@code out} (flushed, not closed). */
  public void export(ComputationGraph g, OutputStream out) {
    ModelProto model = toModel(g);
    try {
      model.writeTo(out);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write the ONNX model: " + e.getMessage(), e);
    }
  }

  /** The ONNX model of {@code g} as bytes (what ONNX Runtime's session constructor takes). */
  public byte[] toBytes(ComputationGraph g) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    export(g, out);
    return out.toByteArray();
  }

  /** The ONNX model of {@code g}. */
  public ModelProto toModel(ComputationGraph g) {
    return new Build(g, input).run();
  }

  /** Shape of one tensor without its batch dimension: [C, H, W] or [features]. */
  private record Shape(long[] dims) {
    boolean isCnn() {
      return dims.length == 3;
    }

    long channels() {
      return dims[0];
    }

    long h() {
      return dims[1];
    }

    long w() {
      return dims[2];
    }

    static Shape cnn(long c, long h, long w) {
      return new Shape(new long[] {c, h, w});
    }

    static Shape ff(long n) {
      return new Shape(new long[] {n});
    }

    @Override
    public String toString() {
      return java.util.Arrays.toString(dims);
    }
  }

  /** One export: walks the graph in topological order, one or more ONNX nodes per vertex. */
  private static final class Build {
    private final ComputationGraph graph;
    private final ComputationGraphConfiguration conf;
    private final InputSpec spec;
    private final GraphProto.Builder onnx = GraphProto.newBuilder();
    /** DL4J vertex name -> name of the ONNX tensor holding its activations. */
    private final Map<String, String> tensorOf = new HashMap<>();
    private final Map<String, Shape> shapeOf = new HashMap<>();
    private int nodeCount;
    private final List<String> ignoredBnActivations = new ArrayList<>();

    Build(ComputationGraph graph, InputSpec spec) {
      this.graph = Objects.requireNonNull(graph, "graph");
      this.conf = graph.getConfiguration();
      this.spec = spec;
    }

    ModelProto run() {
      List<String> inputs = conf.getNetworkInputs();
      List<String> outputs = conf.getNetworkOutputs();
      if (inputs.size() != 1 || outputs.size() != 1) {
        throw new IllegalArgumentException("Cannot export a graph with " + inputs.size()
            + " inputs and " + outputs.size() + " outputs to ONNX: need exactly one of each");
      }
      String in = inputs.get(0);
      String out = outputs.get(0);
      tensorOf.put(in, INPUT);
      shapeOf.put(in, Shape.cnn(spec.channels(), spec.height(), spec.width()));
      onnx.setName("semisup");
      onnx.addInput(valueInfo(INPUT, "N", spec.channels(), spec.height(), spec.width()));

      for (String name : conf.getTopologicalOrderStr()) {
        if (inputs.contains(name)) {
          continue;
        }
        GraphVertex v = conf.getVertices().get(name);
        List<String> vin = conf.getVertexInputs().get(name);
        if (v instanceof LayerVertex lv) {
          if (vin.size() != 1) {
            throw new IllegalArgumentException("Cannot export layer '" + name + "': it has "
                + vin.size() + " inputs, layers take one");
          }
          layer(name, lv, vin.get(0), name.equals(out));
        } else if (v instanceof ElementWiseVertex ew) {
          elementWise(name, ew, vin);
        } else {
          throw unsupported(name, v.getClass().getSimpleName() + " vertex");
        }
      }
      Shape outShape = shapeOf.get(out);
      if (!OUTPUT.equals(tensorOf.get(out))) {
        throw new IllegalArgumentException("Cannot export the graph: its output '" + out
            + "' is not an OutputLayer with softmax activation. ONNX scoring needs class"
            + " probabilities");
      }
      onnx.addOutput(valueInfo(OUTPUT, "N", outShape.dims()));
      embeddingOutput();
      if (!ignoredBnActivations.isEmpty()) {
        LOG.warn("BatchNormalization layers {} configure an activation that DL4J does not apply;"
            + " exported as DL4J computes them (no activation). Put an ActivationLayer after the"
            + " BatchNormalization to get one", ignoredBnActivations);
      }

      return ModelProto.newBuilder()
          .setIrVersion(IR_VERSION)
          .setProducerName("semisup")
          .setProducerVersion("OnnxExporter")
          .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
          .setGraph(onnx)
          .build();
    }

    /**
     * Exposes the pooled features as {@link #EMBEDDING} (an Identity of the pooling layer's
     * tensor, so the graph output has its own name); nothing when the graph has no such layer.
     */
    private void embeddingOutput() {
      String pool = io.semisup.core.model.Architectures.POOL;
      Shape s = shapeOf.get(pool);
      if (s == null || s.isCnn()) {
        return;
      }
      onnx.addNode(NodeProto.newBuilder().setOpType("Identity").setName(pool + "/embedding")
          .addInput(tensorOf.get(pool)).addOutput(EMBEDDING));
      onnx.addOutput(valueInfo(EMBEDDING, "N", s.dims()));
    }

    // ---- vertices ----

    private void layer(String name, LayerVertex lv, String from, boolean isOutput) {
      org.deeplearning4j.nn.conf.layers.Layer lc = lv.getLayerConf().getLayer();
      String x = tensorOf.get(from);
      Shape s = shapeOf.get(from);
      InputPreProcessor pre = lv.getPreProcessor();
      if (pre != null) {
        if (pre.getClass() == CnnToFeedForwardPreProcessor.class
            && ((CnnToFeedForwardPreProcessor) pre).getFormat() == CNN2DFormat.NCHW
            && s.isCnn()) {
          x = node("Flatten", name + "/flatten", List.of(x), List.of(attr("axis", 1)));
          s = Shape.ff(s.channels() * s.h() * s.w());
        } else {
          throw unsupported(name, "input preprocessor " + pre.getClass().getSimpleName()
              + (pre instanceof CnnToFeedForwardPreProcessor c ? " (" + c.getFormat() + ")" : ""));
        }
      }
      if (isOutput && lc.getClass() != OutputLayer.class) {
        throw new IllegalArgumentException("Cannot export the graph: its output '" + name
            + "' is a " + lc.getClass().getSimpleName() + ", not an OutputLayer with softmax."
            + " ONNX scoring needs class probabilities");
      }
      Layer impl = graph.getLayer(name);
      Class<?> type = lc.getClass();
      String y;
      Shape ys;
      IActivation act;
      if (type == ConvolutionLayer.class) {
        ConvolutionLayer c = (ConvolutionLayer) lc;
        requireCnn(name, s, "ConvolutionLayer");
        requireNchw(name, c.getCnn2dDataFormat());
        long[] window = window(name, c.getConvolutionMode(), s, c.getKernelSize(), c.getStride(),
            c.getPadding(), c.getDilation());
        List<String> ins = new ArrayList<>();
        ins.add(x);
        ins.add(init(name + "/W", impl.getParam("W"), c.getNOut(), s.channels(),
            c.getKernelSize()[0], c.getKernelSize()[1]));
        if (c.hasBias()) {
          ins.add(init(name + "/b", impl.getParam("b"), c.getNOut()));
        }
        y = node("Conv", name + "/conv", ins, List.of(
            attrs("kernel_shape", c.getKernelSize()[0], c.getKernelSize()[1]),
            attrs("strides", c.getStride()[0], c.getStride()[1]),
            attrs("dilations", c.getDilation()[0], c.getDilation()[1]),
            attrs("pads", window[2], window[3], window[4], window[5])));
        ys = Shape.cnn(c.getNOut(), window[0], window[1]);
        act = c.getActivationFn();
      } else if (type == BatchNormalization.class) {
        BatchNormalization bn = (BatchNormalization) lc;
        if (s.isCnn()) {
          requireNchw(name, bn.getCnn2DFormat());
        }
        y = batchNorm(name, bn, impl, x, s.channels());
        ys = s;
        // DL4J 1.0.0-M2.1's BatchNormalization layer returns the normalized values without
        // applying its configured activation (training and inference alike), so neither do we.
        act = null;
        if (bn.getActivationFn() != null && !(bn.getActivationFn() instanceof ActivationIdentity)) {
          ignoredBnActivations.add(name + " (" + bn.getActivationFn() + ")");
        }
      } else if (type == SubsamplingLayer.class) {
        SubsamplingLayer p = (SubsamplingLayer) lc;
        requireCnn(name, s, "SubsamplingLayer");
        requireNchw(name, p.getCnn2dDataFormat());
        long[] window = window(name, p.getConvolutionMode(), s, p.getKernelSize(), p.getStride(),
            p.getPadding(), p.getDilation());
        List<AttributeProto> attrs = new ArrayList<>(List.of(
            attrs("kernel_shape", p.getKernelSize()[0], p.getKernelSize()[1]),
            attrs("strides", p.getStride()[0], p.getStride()[1]),
            attrs("pads", window[2], window[3], window[4], window[5])));
        String op;
        if (p.getPoolingType() == PoolingType.MAX) {
          op = "MaxPool";
          attrs.add(attrs("dilations", p.getDilation()[0], p.getDilation()[1]));
        } else if (p.getPoolingType() == PoolingType.AVG) {
          if (p.getDilation()[0] != 1 || p.getDilation()[1] != 1) {
            throw unsupported(name, "dilated AVG SubsamplingLayer");
          }
          op = "AveragePool";
          attrs.add(attr("count_include_pad", p.isAvgPoolIncludePadInDivisor() ? 1 : 0));
        } else {
          throw unsupported(name, p.getPoolingType() + " SubsamplingLayer");
        }
        y = node(op, name + "/pool", List.of(x), attrs);
        ys = Shape.cnn(s.channels(), window[0], window[1]);
        act = null;
      } else if (type == GlobalPoolingLayer.class) {
        GlobalPoolingLayer p = (GlobalPoolingLayer) lc;
        requireCnn(name, s, "GlobalPoolingLayer");
        int[] dims = p.getPoolingDimensions();
        if (dims != null && !(dims.length == 2 && dims[0] == 2 && dims[1] == 3)) {
          throw unsupported(name, "GlobalPoolingLayer over dimensions "
              + java.util.Arrays.toString(dims) + " (only the spatial ones, [2, 3])");
        }
        String op = switch (p.getPoolingType()) {
          case AVG -> "GlobalAveragePool";
          case MAX -> "GlobalMaxPool";
          default -> throw unsupported(name, p.getPoolingType() + " GlobalPoolingLayer");
        };
        y = node(op, name + "/pool", List.of(x), List.of());
        if (p.isCollapseDimensions()) {
          y = node("Flatten", name + "/flatten", List.of(y), List.of(attr("axis", 1)));
          ys = Shape.ff(s.channels());
        } else {
          ys = Shape.cnn(s.channels(), 1, 1);
        }
        act = null;
      } else if (type == GemPooling.class) {
        // GeM = Pow(1/p) . GlobalAveragePool . Pow(p) . Max(x, eps), then flattened to [N, C]
        requireCnn(name, s, "GemPooling");
        double p = ((GemPooling) lc).getP();
        String clamped = node("Max", name + "/clamp",
            List.of(x, init(name + "/eps", new float[] {(float) GemPooling.EPS})), List.of());
        String powered = node("Pow", name + "/pow",
            List.of(clamped, init(name + "/p", new float[] {(float) p})), List.of());
        String mean = node("GlobalAveragePool", name + "/pool", List.of(powered), List.of());
        String root = node("Pow", name + "/root",
            List.of(mean, init(name + "/inv_p", new float[] {(float) (1.0 / p)})), List.of());
        y = node("Flatten", name + "/flatten", List.of(root), List.of(attr("axis", 1)));
        ys = Shape.ff(s.channels());
        act = null;
      } else if (type == DenseLayer.class || type == OutputLayer.class) {
        org.deeplearning4j.nn.conf.layers.FeedForwardLayer f =
            (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) lc;
        if (s.isCnn()) {
          throw unsupported(name, type.getSimpleName() + " on a 4-d (convolutional) input"
              + " without a flatten preprocessor");
        }
        boolean bias = type == DenseLayer.class
            ? ((DenseLayer) lc).hasBias()
            : ((OutputLayer) lc).hasBias();
        List<String> ins = new ArrayList<>();
        ins.add(x);
        // DL4J stores W as [nIn, nOut] and computes x W + b: plain Gemm, no transposition.
        ins.add(init(name + "/W", impl.getParam("W"), s.dims()[0], f.getNOut()));
        if (bias) {
          ins.add(init(name + "/b", impl.getParam("b"), f.getNOut()));
        }
        y = node("Gemm", name + "/gemm", ins, List.of());
        ys = Shape.ff(f.getNOut());
        act = f.getActivationFn();
        if (isOutput && !(act instanceof ActivationSoftmax)) {
          throw new IllegalArgumentException("Cannot export the graph: its output layer '"
              + name + "' has activation " + act + ", not softmax. ONNX scoring needs class"
              + " probabilities");
        }
      } else if (type == ActivationLayer.class) {
        y = x;
        ys = s;
        act = ((ActivationLayer) lc).getActivationFn();
      } else {
        throw unsupported(name, type.getSimpleName());
      }
      y = activation(name, act, y, ys, isOutput);
      tensorOf.put(name, y);
      shapeOf.put(name, ys);
    }

    private void elementWise(String name, ElementWiseVertex ew, List<String> vin) {
      List<String> ins = new ArrayList<>();
      Shape s = shapeOf.get(vin.get(0));
      for (String v : vin) {
        ins.add(tensorOf.get(v));
        if (!java.util.Arrays.equals(shapeOf.get(v).dims(), s.dims())) {
          throw new IllegalArgumentException("Cannot export ElementWiseVertex '" + name
              + "': its inputs have shapes " + s + " and " + shapeOf.get(v));
        }
      }
      String op = switch (ew.getOp()) {
        case Add -> ins.size() == 2 ? "Add" : "Sum";
        case Subtract -> "Sub";
        case Product -> ins.size() == 2 ? "Mul" : null;
        case Average -> "Mean";
        case Max -> "Max";
        default -> null;
      };
      if (op == null) {
        throw unsupported(name, "ElementWiseVertex " + ew.getOp() + " of " + ins.size()
            + " inputs");
      }
      tensorOf.put(name, node(op, name + "/" + op.toLowerCase(), ins, List.of()));
      shapeOf.put(name, s);
    }

    /**
     * Batch normalization with DL4J's inference formula {@code gamma (x - mean) / sqrt(var + eps)
     * + beta}. DL4J keeps the running variance either as is ({@code useLogStd=false}) or, by
     * default, as {@code log10(sqrt(var))}; it then recovers {@code var = (10^p)^2} and still adds
     * eps. Both map to ONNX BatchNormalization with the layer's own eps.
     */
    private String batchNorm(String name, BatchNormalization bn, Layer impl, String x, long c) {
      float[] gamma;
      float[] beta;
      if (bn.isLockGammaBeta()) {
        gamma = filled(c, bn.getGamma());
        beta = filled(c, bn.getBeta());
      } else {
        gamma = floats(impl.getParam("gamma"), c);
        beta = floats(impl.getParam("beta"), c);
      }
      float[] mean = floats(impl.getParam("mean"), c);
      float[] var;
      if (bn.isUseLogStd()) {
        float[] log10std = floats(impl.getParam("log10stdev"), c);
        var = new float[log10std.length];
        for (int i = 0; i < var.length; i++) {
          double std = Math.pow(10.0, log10std[i]);
          var[i] = (float) (std * std);
        }
      } else {
        var = floats(impl.getParam("var"), c);
      }
      List<String> ins = List.of(x,
          init(name + "/gamma", gamma, c), init(name + "/beta", beta, c),
          init(name + "/mean", mean, c), init(name + "/var", var, c));
      return node("BatchNormalization", name + "/bn", ins,
          List.of(attr("epsilon", (float) bn.getEps())));
    }

    /** Appends the activation's node(s); the output layer's softmax yields {@link #OUTPUT}. */
    private String activation(String name, IActivation act, String x, Shape s, boolean isOutput) {
      if (act == null || act instanceof ActivationIdentity) {
        return x;
      }
      if (act instanceof ActivationReLU r) {
        if ((r.getMax() != null && r.getMax() != 0)
            || (r.getThreshold() != null && r.getThreshold() != 0)
            || (r.getNegativeSlope() != null && r.getNegativeSlope() != 0)) {
          throw unsupported(name, "activation " + act + " (ReLU with max/threshold/slope)");
        }
        return node("Relu", name + "/relu", List.of(x), List.of());
      }
      if (act instanceof ActivationLReLU l) {
        return node("LeakyRelu", name + "/leakyrelu", List.of(x),
            List.of(attr("alpha", (float) l.getAlpha())));
      }
      if (act instanceof ActivationSigmoid) {
        return node("Sigmoid", name + "/sigmoid", List.of(x), List.of());
      }
      if (act instanceof ActivationTanH) {
        return node("Tanh", name + "/tanh", List.of(x), List.of());
      }
      if (act instanceof ActivationSoftmax) {
        if (s.isCnn()) {
          throw unsupported(name, "softmax on a 4-d activation");
        }
        String outName = isOutput ? OUTPUT : tensor(name + "/softmax");
        onnx.addNode(NodeProto.newBuilder().setOpType("Softmax").setName(name + "/softmax")
            .addInput(x).addOutput(outName).addAttribute(attr("axis", 1)));
        return outName;
      }
      throw unsupported(name, "activation " + act.getClass().getSimpleName());
    }

    // ---- geometry ----

    /**
     * Output size and ONNX pads of a convolution or pooling window, as DL4J computes them:
     * {@code [outH, outW, padTop, padLeft, padBottom, padRight]}. Same mode: out = ceil(in /
     * stride), total padding {@code max(0, (out - 1) stride + (k - 1) d + 1 - in)}, the smaller
     * half before, the remainder after (what libnd4j does, and ONNX's SAME_UPPER). Truncate and
     * Strict: the layer's symmetric padding, out = floor((in + 2p - k') / stride) + 1.
     */
    private long[] window(String name, ConvolutionMode mode, Shape s, int[] k, int[] stride,
        int[] pad, int[] dil) {
      long[] out = new long[6];
      long[] in = {s.h(), s.w()};
      for (int d = 0; d < 2; d++) {
        long ek = (long) (k[d] - 1) * dil[d] + 1;
        long o;
        long before;
        long after;
        if (mode == ConvolutionMode.Same) {
          o = (in[d] + stride[d] - 1) / stride[d];
          long total = Math.max(0, (o - 1) * stride[d] + ek - in[d]);
          before = total / 2;
          after = total - before;
        } else if (mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict) {
          o = (in[d] + 2L * pad[d] - ek) / stride[d] + 1;
          before = pad[d];
          after = pad[d];
        } else {
          throw unsupported(name, "convolution mode " + mode);
        }
        if (o < 1) {
          throw new IllegalArgumentException("Cannot export layer '" + name + "': its window "
              + java.util.Arrays.toString(k) + " does not fit its input " + s);
        }
        out[d] = o;
        out[2 + d] = before;
        out[4 + d] = after;
      }
      return out;
    }

    private static void requireCnn(String name, Shape s, String what) {
      if (!s.isCnn()) {
        throw new IllegalArgumentException("Cannot export " + what + " '" + name
            + "': its input is not 4-d (NCHW) but " + s);
      }
    }

    private static void requireNchw(String name, CNN2DFormat f) {
      if (f != null && f != CNN2DFormat.NCHW) {
        throw unsupported(name, "data format " + f + " (only NCHW)");
      }
    }

    private static IllegalArgumentException unsupported(String name, String what) {
      return new IllegalArgumentException("Cannot export vertex '" + name + "' to ONNX: "
          + what + " is not supported. OnnxExporter handles ConvolutionLayer,"
          + " BatchNormalization, SubsamplingLayer (MAX/AVG), GlobalPoolingLayer (AVG/MAX), GemPooling,"
          + " DenseLayer, OutputLayer (softmax), ActivationLayer and ElementWiseVertex");
    }

    // ---- protobuf helpers ----

    private String tensor(String base) {
      return "t/" + base;
    }

    private String node(String op, String base, List<String> ins, List<AttributeProto> attrs) {
      String out = tensor(base);
      NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(base + "#" + nodeCount++)
          .addAllInput(ins).addOutput(out);
      attrs.forEach(n::addAttribute);
      onnx.addNode(n);
      return out;
    }

    private String init(String base, INDArray param, long... dims) {
      return init(base, floats(param, product(dims)), dims);
    }

    private String init(String base, float[] values, long... dims) {
      if (values.length != product(dims)) {
        throw new IllegalStateException("Cannot export '" + base + "': it has " + values.length
            + " values, expected shape " + java.util.Arrays.toString(dims));
      }
      String name = "p/" + base;
      ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      buf.asFloatBuffer().put(values);
      TensorProto.Builder t = TensorProto.newBuilder().setName(name)
          .setDataType(TensorProto.DataType.FLOAT_VALUE)
          .setRawData(ByteString.copyFrom(buf.array()));
      for (long d : dims) {
        t.addDims(d);
      }
      onnx.addInitializer(t);
      return name;
    }

    private static long product(long... dims) {
      long p = 1;
      for (long d : dims) {
        p *= d;
      }
      return p;
    }

    /** All values of a parameter in C order, as float (whatever the graph's data type). */
    private static float[] floats(INDArray a, long expected) {
      if (a == null) {
        throw new IllegalStateException("Cannot export: a parameter is missing");
      }
      if (a.length() != expected) {
        throw new IllegalStateException("Cannot export: parameter of shape "
            + java.util.Arrays.toString(a.shape()) + " has " + a.length() + " values, expected "
            + expected);
      }
      INDArray f = a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
      return org.nd4j.linalg.factory.Nd4j.toFlattened('c', f).toFloatVector();
    }

    private static float[] filled(long n, double v) {
      float[] a = new float[Math.toIntExact(n)];
      java.util.Arrays.fill(a, (float) v);
      return a;
    }

    private static AttributeProto attr(String name, long v) {
      return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT)
          .setI(v).build();
    }

    private static AttributeProto attr(String name, float v) {
      return AttributeProto.newBuilder().setName(name)
          .setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    private static AttributeProto attrs(String name, long... v) {
      AttributeProto.Builder a = AttributeProto.newBuilder().setName(name)
          .setType(AttributeProto.AttributeType.INTS);
      for (long x : v) {
        a.addInts(x);
      }
      return a.build();
    }

    private static ValueInfoProto valueInfo(String name, String batch, long... dims) {
      TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
      shape.addDimBuilder().setDimParam(batch);
      for (long d : dims) {
        shape.addDimBuilder().setDimValue(d);
      }
      return ValueInfoProto.newBuilder().setName(name)
          .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
              .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape)))
          .build();
    }
  }
}
