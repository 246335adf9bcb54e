package io.semisup.core.enorm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;

/**
 * Finds the {@link RescalablePair}s of a graph, in topological order.
 *
 * <p>Why these rules: rescaling a hidden unit is exact only where nothing but the consumer reads
 * it and everything in between commutes with a positive per-unit factor. So a pair is a plain
 * {@link ConvolutionLayer} or {@link DenseLayer} with a ReLU, leaky ReLU or identity activation,
 * followed by a chain of single-consumer ReLU/identity activation layers, max/average
 * subsampling or global pooling, ending at another plain convolution or dense layer that has no
 * input preprocessor (a CNN-to-dense flattening would mix the unit with its positions), the same
 * unit count, and is not an output layer (the reference leaves the last layer alone). Any fan-out
 * ends the chain: in a residual block the second convolution's output meets the skip connection,
 * which does not carry the same scaling, so only the block's inner pair (first conv -> second
 * conv) qualifies; batch norm, element-wise vertices and merges end it too.
 */
public final class RescalablePairs {

  private RescalablePairs() {}

  /** The pairs of {@code g}, ordered by the producer's position in the topological order. */
  public static List<RescalablePair> of(ComputationGraph g) {
    ComputationGraphConfiguration conf = g.getConfiguration();
    Map<String, List<String>> consumers = new HashMap<>();
    conf.getVertexInputs().forEach((vertex, inputs) -> {
      for (String in : inputs) {
        consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(vertex);
      }
    });
    List<String> outputs = conf.getNetworkOutputs();
    List<RescalablePair> pairs = new ArrayList<>();
    for (int index : g.topologicalSortOrder()) {
      String name = g.getVertices()[index].getVertexName();
      Layer producer = layer(conf, name);
      if (!rescalableLayer(producer) || producer instanceof BaseOutputLayer
          || !homogeneous(((BaseLayer) producer).getActivationFn())) {
        continue;
      }
      String cur = name;
      while (true) {
        List<String> next = consumers.getOrDefault(cur, List.of());
        if (next.size() != 1 || outputs.contains(cur)) {
          break;
        }
        String n = next.get(0);
        Layer l = layer(conf, n);
        if (l == null) {
          break; // a vertex (add, merge, ...): not channel-wise on this unit alone
        }
        if (passesThrough(l)) {
          cur = n;
          continue;
        }
        if (rescalableLayer(l) && !(l instanceof BaseOutputLayer) && !outputs.contains(n)
            && ((LayerVertex) conf.getVertices().get(n)).getPreProcessor() == null
            && nIn(l) == nOut(producer)) {
          pairs.add(new RescalablePair(name, producer instanceof ConvolutionLayer, n,
              l instanceof ConvolutionLayer, (int) nOut(producer)));
        }
        break;
      }
    }
    return List.copyOf(pairs);
  }

  private static Layer layer(ComputationGraphConfiguration conf, String name) {
    GraphVertex v = conf.getVertices().get(name);
    return v instanceof LayerVertex lv ? lv.getLayerConf().getLayer() : null;
  }

  /** Plain convolutions and dense layers only (not their subclasses: other weight layouts). */
  private static boolean rescalableLayer(Layer l) {
    return l != null && (l.getClass() == ConvolutionLayer.class || l.getClass() == DenseLayer.class);
  }

  private static long nIn(Layer l) {
    return l instanceof ConvolutionLayer c ? c.getNIn() : ((DenseLayer) l).getNIn();
  }

  private static long nOut(Layer l) {
    return l instanceof ConvolutionLayer c ? c.getNOut() : ((DenseLayer) l).getNOut();
  }

  /** Layers that act on each unit alone and commute with a positive factor. */
  private static boolean passesThrough(Layer l) {
    if (l instanceof ActivationLayer a) {
      return homogeneous(a.getActivationFn());
    }
    if (l.getClass() == SubsamplingLayer.class) {
      PoolingType t = ((SubsamplingLayer) l).getPoolingType();
      return t == PoolingType.MAX || t == PoolingType.AVG;
    }
    if (l.getClass() == GlobalPoolingLayer.class) {
      PoolingType t = ((GlobalPoolingLayer) l).getPoolingType();
      return t == PoolingType.MAX || t == PoolingType.AVG || t == PoolingType.SUM;
    }
    return false;
  }

  /** f(d x) = d f(x) for every d &gt; 0. */
  static boolean homogeneous(IActivation a) {
    if (a instanceof ActivationIdentity || a instanceof ActivationLReLU) {
      return true;
    }
    if (a instanceof ActivationReLU r) {
      return zeroOrNull(r.getMax()) && zeroOrNull(r.getThreshold());
    }
    return false;
  }

  private static boolean zeroOrNull(Double d) {
    return d == null || d == 0.0;
  }
}
