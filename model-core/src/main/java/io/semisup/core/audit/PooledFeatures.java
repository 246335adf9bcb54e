package io.semisup.core.audit;

import io.semisup.core.image.InputSpec;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import java.util.List;
import java.util.Map;

/**
 * The frozen lower-layer features of a classifier: the activations feeding its output layer (the
 * globally pooled features of every {@code Architectures} network), in inference mode. What the
 * linear-head audit trains on.
 */
public final class PooledFeatures {

  private static final int BATCH = 256;

  private PooledFeatures() {}

  /** The name of the vertex whose activations the output layer reads. */
  public static String layerOf(ComputationGraph g) {
    String out = g.getConfiguration().getNetworkOutputs().get(0);
    List<String> in = g.getConfiguration().getVertexInputs().get(out);
    if (in == null || in.size() != 1) {
      throw new IllegalArgumentException("Cannot find the pooled features of this graph: its output '" + out
          + "' reads " + in + ", not one vertex");
    }
    return in.get(0);
  }

  /** One feature row per CHW tensor of shape {@code spec}. */
  public static float[][] of(ComputationGraph g, float[][] x, InputSpec spec) {
    String layer = layerOf(g);
    int h = spec.height();
    int w = spec.width();
    int c = spec.channels();
    int size = h * w * c;
    float[][] out = new float[x.length][];
    for (int start = 0; start < x.length; start += BATCH) {
      int b = Math.min(BATCH, x.length - start);
      float[] f = new float[b * size];
      for (int k = 0; k < b; k++) {
        System.arraycopy(x[start + k], 0, f, k * size, size);
      }
      INDArray input = Nd4j.create(f, new long[] {b, c, h, w}, 'c');
      Map<String, INDArray> acts = g.feedForward(input, false);
      INDArray feats = acts.get(layer);
      float[][] rows = feats.reshape(b, feats.length() / b).toFloatMatrix();
      System.arraycopy(rows, 0, out, start, b);
      input.close();
    }
    return out;
  }
}
