package io.semisup.core.model;

import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures.ResNetShape;
import io.semisup.core.train.TrainingConfig;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;

/**
 * The project's networks without batch norm, for equi-normalization (ENorm) and small batches.
 *
 * <p>Why they exist: batch norm's statistics are noisy on small per-worker batches, and ENorm
 * (Stock et al. 2019) is an alternative that needs a network whose function is invariant to
 * rescaling hidden units: convolutions with biases and ReLUs, no normalization layer. Two
 * families:
 *
 * <ul>
 *   <li>{@code <resnet>-nobn} for each basic-block ResNet of {@link Architectures} (e.g.
 *       {@code resnet-small-nobn}): the same stem, blocks and projection shortcuts, each
 *       conv-BN replaced by a conv with a bias. Initialised to train without normalization: He
 *       init everywhere, and each residual branch's last convolution scaled by
 *       {@value #BRANCH_SCALE} so that a block starts close to its shortcut (Fixup's lesson, Zhang
 *       et al. 2019) and the activations do not grow with depth.
 *   <li>{@value #PLAIN_CONV}: the reference code's kind of network (a plain stack of 3x3
 *       convolutions and ReLUs, max-pooling between stages, a 1x1 convolution, global average
 *       pooling), sized for 28x28 images and these CPUs: 16-16, pool, 32-32, pool, 1x1 32. With
 *       no skip connection every consecutive pair of convolutions is rescalable, so ENorm acts on
 *       four pairs, against one per block in the ResNets.
 * </ul>
 */
final class BnFreeNets {

  /** Suffix of a BN-free ResNet's name. */
  static final String SUFFIX = "-nobn";

  /** The reference code's kind of plain convolutional net. */
  static final String PLAIN_CONV = "plain-conv";

  /** Factor on the initial weights of each residual branch's last convolution. */
  static final double BRANCH_SCALE = 0.25;

  /** Every BN-free name, ResNets first. */
  static final List<String> NAMES;

  static {
    List<String> names = new ArrayList<>();
    for (String resnet : Architectures.SHAPES.keySet()) {
      names.add(resnet + SUFFIX);
    }
    names.add(PLAIN_CONV);
    NAMES = List.copyOf(names);
  }

  private BnFreeNets() {}

  static ComputationGraph build(
      String name, InputSpec input, int numClasses, TrainingConfig cfg, GlobalPool pool) {
    if (PLAIN_CONV.equals(name)) {
      return plainConv(input, numClasses, cfg, pool);
    }
    ResNetShape shape = Architectures.shape(name.substring(0, name.length() - SUFFIX.length()));
    return resnet(shape, input, numClasses, cfg, pool);
  }

  private static ComputationGraph resnet(
      ResNetShape shape, InputSpec input, int numClasses, TrainingConfig cfg, GlobalPool pool) {
    ComputationGraphConfiguration.GraphBuilder g =
        Architectures.graphBuilder(input, numClasses, cfg, WorkspaceMode.ENABLED);
    String x = conv(g, "stem", Architectures.INPUT, input.channels(), shape.stemWidth(), 3, 1, true);
    if (shape.stemPool()) {
      x = maxPool(g, "stem_pool", x);
    }
    int channels = shape.stemWidth();
    List<String> branchEnds = new ArrayList<>();
    int[] widths = shape.widths();
    int[] blocks = shape.blocks();
    for (int s = 0; s < widths.length; s++) {
      for (int b = 0; b < blocks[s]; b++) {
        String name = "s" + s + "b" + b;
        int stride = (s > 0 && b == 0) ? 2 : 1;
        String a = conv(g, name + "_a", x, channels, widths[s], 3, stride, true);
        String last = conv(g, name + "_b", a, widths[s], widths[s], 3, 1, false);
        branchEnds.add(last);
        String shortcut = x;
        if (stride != 1 || channels != widths[s]) {
          shortcut = conv(g, name + "_proj", x, channels, widths[s], 1, stride, false);
        }
        g.addVertex(name + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), last, shortcut);
        g.addLayer(name + "_out",
            new ActivationLayer.Builder().activation(Activation.RELU).build(), name + "_add");
        x = name + "_out";
        channels = widths[s];
      }
      if (blocks[s] == 0) {
        x = conv(g, "s" + s + "down", x, channels, widths[s], 3, s > 0 ? 2 : 1, true);
        channels = widths[s];
      }
    }
    ComputationGraph graph = Architectures.finish(g, x, channels, numClasses, pool);
    for (String conv : branchEnds) {
      graph.getLayer(conv).getParam("W").muli(BRANCH_SCALE);
    }
    return graph;
  }

  private static ComputationGraph plainConv(
      InputSpec input, int numClasses, TrainingConfig cfg, GlobalPool pool) {
    ComputationGraphConfiguration.GraphBuilder g =
        Architectures.graphBuilder(input, numClasses, cfg, WorkspaceMode.ENABLED);
    String x = conv(g, "c1", Architectures.INPUT, input.channels(), 16, 3, 1, true);
    x = conv(g, "c2", x, 16, 16, 3, 1, true);
    x = maxPool(g, "pool1", x);
    x = conv(g, "c3", x, 16, 32, 3, 1, true);
    x = conv(g, "c4", x, 32, 32, 3, 1, true);
    x = maxPool(g, "pool2", x);
    x = conv(g, "c5", x, 32, 32, 1, 1, true);
    return Architectures.finish(g, x, 32, numClasses, pool);
  }

  /**
   * conv with bias -> ReLU (when relu), the ReLU its own layer as in {@link Architectures} (the
   * training kernels speed up activation layers); returns the last layer's name.
   */
  private static String conv(
      ComputationGraphConfiguration.GraphBuilder g, String name, String in, int nIn, int nOut,
      int k, int stride, boolean relu) {
    g.addLayer(name + "_conv",
        new ConvolutionLayer.Builder(k, k).stride(stride, stride)
            .nIn(nIn).nOut(nOut).hasBias(true).activation(Activation.IDENTITY).build(),
        in);
    if (!relu) {
      return name + "_conv";
    }
    g.addLayer(name + "_relu",
        new ActivationLayer.Builder().activation(Activation.RELU).build(), name + "_conv");
    return name + "_relu";
  }

  private static String maxPool(ComputationGraphConfiguration.GraphBuilder g, String name, String in) {
    g.addLayer(name,
        new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(), in);
    return name;
  }
}
