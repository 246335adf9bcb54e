package io.semisup.core.model;

import io.semisup.core.image.InputSpec;
import io.semisup.core.train.TrainingConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Builds the project's networks by name, so a model's metadata can name its architecture and
 * any JVM (driver, Spark executor, test) can rebuild the same graph.
 *
 * <p>Why these shapes: DL4J on 2 CPU cores pays a large fixed cost per operation, so the
 * networks are small residual CNNs (conv-BN-ReLU basic blocks, projection shortcuts when the
 * width or stride changes, global average pooling) sized from measured throughput to let the
 * demo train teacher, student and fine-tuning within minutes. The graph has one input named
 * {@value #INPUT} and one softmax output layer named {@value #OUTPUT} with multi-class
 * cross-entropy (label smoothing, when used, is applied to the targets by the trainer).
 *
 * <p>The updater is SGD with Nesterov momentum at the config's peak learning rate; trainers
 * install the real schedule for their data size with {@code graph.setLearningRate(
 * cfg.lrSchedule(n))} (see {@code LocalTrainer}).
 */
public final class Architectures {

  /** Name of the graph's single input. */
  public static final String INPUT = "input";

  /** Name of the graph's output layer. */
  public static final String OUTPUT = "output";

  /**
   * Name of the global pooling layer before the classifier ({@link GlobalPool}): its
   * activations, {@code [N, channels]}, are the image embedding.
   */
  public static final String POOL = "gap";

  /**
   * Shape of a small ResNet: a 3x3 stem (optionally followed by 2x2 max-pooling), then stages
   * of basic residual blocks; every stage after the first halves the resolution in its first
   * block.
   *
   * @param stemWidth channels of the stem convolution
   * @param stemPool 2x2 max-pooling after the stem
   * @param widths channels per stage
   * @param blocks residual blocks per stage
   */
  public record ResNetShape(int stemWidth, boolean stemPool, int[] widths, int[] blocks) {
    public ResNetShape {
      if (widths.length == 0 || widths.length != blocks.length) {
        throw new IllegalArgumentException(
            "Cannot build stages from widths " + Arrays.toString(widths) + " and blocks "
                + Arrays.toString(blocks));
      }
      widths = widths.clone();
      blocks = blocks.clone();
    }

    @Override
    public String toString() {
      return "stem" + stemWidth + (stemPool ? "+pool" : "") + " widths="
          + Arrays.toString(widths) + " blocks=" + Arrays.toString(blocks);
    }
  }

  static final Map<String, ResNetShape> SHAPES = new LinkedHashMap<>();

  static {
    // All: 28x28 stem conv, 2x2 max-pool to 14x14, one basic block at 14x14, one strided
    // block to 7x7. DL4J's CPU convolution (im2col) costs about linearly in width here, so
    // the default is the narrow one that fits the demo's time budget (docs in the recipe notes).
    SHAPES.put("resnet-small", new ResNetShape(16, true, new int[] {16, 32}, new int[] {1, 1}));
    SHAPES.put("resnet-tiny", new ResNetShape(8, true, new int[] {8, 16}, new int[] {1, 1}));
    SHAPES.put("resnet-medium", new ResNetShape(32, true, new int[] {32, 64}, new int[] {1, 1}));
  }

  /**
   * He et al.'s ResNet-50 (bottleneck blocks 3-4-6-3, widths 64-128-256-512 x4, 7x7 stride-2
   * stem and 3x3 stride-2 max-pooling; stride 2 in the 3x3 convolution of each stage's first
   * block, as torchvision's v1.5). Made for 224x224 RGB and 1000 classes: the teacher size of
   * the paper's scoring cost, used by {@code bench score} with random weights, and a real
   * teacher architecture at ImageNet scale. Too slow to train with DL4J on the project's CPUs.
   */
  public static final String RESNET_50 = "resnet-50";

  private static final int[] RESNET_50_WIDTHS = {64, 128, 256, 512};
  private static final int[] RESNET_50_BLOCKS = {3, 4, 6, 3};
  private static final int BOTTLENECK_EXPANSION = 4;

  private Architectures() {}

  /** Valid architecture names, the default first. */
  public static List<String> names() {
    List<String> names = new ArrayList<>(SHAPES.keySet());
    names.add(RESNET_50);
    names.addAll(BnFreeNets.NAMES);
    return List.copyOf(names);
  }

  /**
   * The shape behind the name of one of the small basic-block ResNets.
   *
   * @throws IllegalArgumentException for an unknown name or {@value #RESNET_50} (bottleneck
   *     blocks have no {@link ResNetShape})
   */
  public static ResNetShape shape(String name) {
    ResNetShape s = SHAPES.get(name);
    if (s == null) {
      throw new IllegalArgumentException("Cannot build architecture '" + name + "'"
          + (RESNET_50.equals(name) ? " from a ResNetShape: it has bottleneck blocks. Use"
              + " build(\"" + RESNET_50 + "\", ...)" : ": valid names are " + names()));
    }
    return s;
  }

  /**
   * A freshly initialized graph (weights seeded by {@code cfg.seed()}).
   *
   * @throws IllegalArgumentException for an unknown name, listing the valid ones
   */
  public static ComputationGraph build(
      String name, InputSpec input, int numClasses, TrainingConfig cfg) {
    return build(name, input, numClasses, cfg, GlobalPool.AVG);
  }

  /** As {@link #build(String, InputSpec, int, TrainingConfig)} with the given global pooling. */
  public static ComputationGraph build(
      String name, InputSpec input, int numClasses, TrainingConfig cfg, GlobalPool pool) {
    if (RESNET_50.equals(name)) {
      return resnet50(input, numClasses, cfg, pool);
    }
    if (BnFreeNets.NAMES.contains(name)) {
      return BnFreeNets.build(name, input, numClasses, cfg, pool);
    }
    return build(shape(name), input, numClasses, cfg, WorkspaceMode.ENABLED, pool);
  }

  /** A graph of any shape; for experiments that compare shapes before naming one. */
  public static ComputationGraph build(
      ResNetShape shape, InputSpec input, int numClasses, TrainingConfig cfg) {
    return build(shape, input, numClasses, cfg, WorkspaceMode.ENABLED);
  }

  /** As {@link #build(ResNetShape, InputSpec, int, TrainingConfig)}, choosing workspace mode. */
  public static ComputationGraph build(
      ResNetShape shape, InputSpec input, int numClasses, TrainingConfig cfg,
      WorkspaceMode workspaceMode) {
    return build(shape, input, numClasses, cfg, workspaceMode, GlobalPool.AVG);
  }

  /** As above, with the given global pooling. */
  public static ComputationGraph build(
      ResNetShape shape, InputSpec input, int numClasses, TrainingConfig cfg,
      WorkspaceMode workspaceMode, GlobalPool pool) {
    ComputationGraphConfiguration.GraphBuilder g = graphBuilder(input, numClasses, cfg,
        workspaceMode);
    String x = convBn(g, "stem", INPUT, input.channels(), shape.stemWidth(), 3, 1, true);
    if (shape.stemPool()) {
      g.addLayer("stem_pool",
          new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(), x);
      x = "stem_pool";
    }
    int channels = shape.stemWidth();
    int[] widths = shape.widths();
    int[] blocks = shape.blocks();
    for (int s = 0; s < widths.length; s++) {
      for (int b = 0; b < blocks[s]; b++) {
        int stride = (s > 0 && b == 0) ? 2 : 1;
        x = basicBlock(g, "s" + s + "b" + b, x, channels, widths[s], stride);
        channels = widths[s];
      }
      if (blocks[s] == 0) { // a plain strided conv keeps the stage's resolution change
        x = convBn(g, "s" + s + "down", x, channels, widths[s], 3, s > 0 ? 2 : 1, true);
        channels = widths[s];
      }
    }
    return finish(g, x, channels, numClasses, pool);
  }

  /** ResNet-50 (see {@link #RESNET_50}) for any input size and class count. */
  private static ComputationGraph resnet50(
      InputSpec input, int numClasses, TrainingConfig cfg, GlobalPool pool) {
    ComputationGraphConfiguration.GraphBuilder g = graphBuilder(input, numClasses, cfg,
        WorkspaceMode.ENABLED);
    String x = convBn(g, "stem", INPUT, input.channels(), 64, 7, 2, true);
    g.addLayer("stem_pool",
        new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(3, 3).stride(2, 2).build(), x);
    x = "stem_pool";
    int channels = 64;
    for (int s = 0; s < RESNET_50_WIDTHS.length; s++) {
      for (int b = 0; b < RESNET_50_BLOCKS[s]; b++) {
        int stride = (s > 0 && b == 0) ? 2 : 1;
        x = bottleneckBlock(g, "s" + s + "b" + b, x, channels, RESNET_50_WIDTHS[s], stride);
        channels = RESNET_50_WIDTHS[s] * BOTTLENECK_EXPANSION;
      }
    }
    return finish(g, x, channels, numClasses, pool);
  }

  static ComputationGraphConfiguration.GraphBuilder graphBuilder(
      InputSpec input, int numClasses, TrainingConfig cfg, WorkspaceMode workspaceMode) {
    if (numClasses < 2) {
      throw new IllegalArgumentException("Cannot classify into " + numClasses + " classes");
    }
    NeuralNetConfiguration.Builder base =
        new NeuralNetConfiguration.Builder()
            .seed(cfg.seed())
            .dataType(DataType.FLOAT)
            .updater(new Nesterovs(cfg.learningRate(), cfg.momentum()))
            .weightInit(WeightInit.RELU)
            .convolutionMode(ConvolutionMode.Same)
            .trainingWorkspaceMode(workspaceMode)
            .inferenceWorkspaceMode(workspaceMode);
    if (cfg.weightDecay() > 0) {
      base.l2(cfg.weightDecay());
    }
    return base.graphBuilder()
        .addInputs(INPUT)
        .setInputTypes(InputType.convolutional(input.height(), input.width(), input.channels()));
  }

  /** Global pooling and the softmax output layer; builds and initializes the graph. */
  static ComputationGraph finish(
      ComputationGraphConfiguration.GraphBuilder g, String x, int channels, int numClasses,
      GlobalPool pool) {
    g.addLayer(POOL, pool.layer(), x);
    g.addLayer(OUTPUT,
        new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
            .nIn(channels).nOut(numClasses)
            .activation(Activation.SOFTMAX)
            .weightInit(WeightInit.XAVIER)
            .build(),
        POOL);
    g.setOutputs(OUTPUT);
    ComputationGraph graph = new ComputationGraph(g.build());
    graph.init();
    return graph;
  }

  /**
   * conv (no bias) -> BN -> ReLU (when relu); returns the last layer's name. The ReLU is its own
   * layer because DL4J 1.0.0-M2.1's BatchNormalization ignores a configured activation.
   */
  private static String convBn(
      ComputationGraphConfiguration.GraphBuilder g, String name, String in, int nIn, int nOut,
      int k, int stride, boolean relu) {
    g.addLayer(name + "_conv",
        new ConvolutionLayer.Builder(k, k).stride(stride, stride)
            .nIn(nIn).nOut(nOut).hasBias(false).activation(Activation.IDENTITY).build(),
        in);
    g.addLayer(name + "_bn",
        new BatchNormalization.Builder().nOut(nOut).activation(Activation.IDENTITY).build(),
        name + "_conv");
    if (!relu) {
      return name + "_bn";
    }
    g.addLayer(name + "_relu",
        new ActivationLayer.Builder().activation(Activation.RELU).build(), name + "_bn");
    return name + "_relu";
  }

  /** He et al. basic block: two 3x3 conv-BN, identity or 1x1 projection shortcut, add, ReLU. */
  private static String basicBlock(
      ComputationGraphConfiguration.GraphBuilder g, String name, String in, int nIn, int nOut,
      int stride) {
    String a = convBn(g, name + "_a", in, nIn, nOut, 3, stride, true);
    String b = convBn(g, name + "_b", a, nOut, nOut, 3, 1, false);
    String shortcut = in;
    if (stride != 1 || nIn != nOut) {
      shortcut = convBn(g, name + "_proj", in, nIn, nOut, 1, stride, false);
    }
    g.addVertex(name + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), b, shortcut);
    g.addLayer(name + "_out",
        new ActivationLayer.Builder().activation(Activation.RELU).build(), name + "_add");
    return name + "_out";
  }

  /**
   * He et al. bottleneck block: 1x1 reduce, 3x3 (carrying the stride), 1x1 expand (x4), each
   * conv-BN, ReLU after the first two; identity or 1x1 projection shortcut; add, ReLU.
   */
  private static String bottleneckBlock(
      ComputationGraphConfiguration.GraphBuilder g, String name, String in, int nIn, int width,
      int stride) {
    int nOut = width * BOTTLENECK_EXPANSION;
    String a = convBn(g, name + "_a", in, nIn, width, 1, 1, true);
    String b = convBn(g, name + "_b", a, width, width, 3, stride, true);
    String c = convBn(g, name + "_c", b, width, nOut, 1, 1, false);
    String shortcut = in;
    if (stride != 1 || nIn != nOut) {
      shortcut = convBn(g, name + "_proj", in, nIn, nOut, 1, stride, false);
    }
    g.addVertex(name + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), c, shortcut);
    g.addLayer(name + "_out",
        new ActivationLayer.Builder().activation(Activation.RELU).build(), name + "_add");
    return name + "_out";
  }

  /** Names of the layers, for logs. */
  static List<String> layerNames(ComputationGraph g) {
    List<String> out = new ArrayList<>();
    for (var l : g.getLayers()) {
      out.add(l.conf().getLayer().getLayerName());
    }
    return out;
  }
}
