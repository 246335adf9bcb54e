package io.semisup.core.dedup;

import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Image embeddings of a classifier: the activations of its global pooling layer
 * ({@link Architectures#POOL}, average or GeM), L2-normalised so that a dot product is the
 * cosine similarity. The same model that pseudo-labels the pool embeds it, so no second network
 * is needed to find copies of evaluation images.
 */
public final class Embeddings {

  /** Images per forward pass. */
  public static final int BATCH = 256;

  private Embeddings() {}

  /** L2-normalised pooled features of CHW tensors of shape {@code spec}, one row per image. */
  public static float[][] of(ComputationGraph g, float[][] chw, InputSpec spec) {
    float[][] out = new float[chw.length][];
    int size = spec.size();
    for (int start = 0; start < chw.length; start += BATCH) {
      int b = Math.min(BATCH, chw.length - start);
      float[] flat = new float[b * size];
      for (int k = 0; k < b; k++) {
        System.arraycopy(chw[start + k], 0, flat, k * size, size);
      }
      INDArray x = Nd4j.create(flat, new long[] {b, spec.channels(), spec.height(), spec.width()}, 'c');
      Map<String, INDArray> acts = g.feedForward(new INDArray[] {x}, false, false);
      INDArray pooled = acts.get(Architectures.POOL);
      if (pooled == null) {
        throw new IllegalArgumentException("Cannot embed with this graph: it has no layer '"
            + Architectures.POOL + "' (build it with Architectures)");
      }
      float[][] rows = pooled.reshape(b, -1).toFloatMatrix();
      for (int k = 0; k < b; k++) {
        out[start + k] = normalize(rows[k]);
      }
    }
    return out;
  }

  /** {@code v / ||v||} in place (a zero vector stays zero); returns v. */
  public static float[] normalize(float[] v) {
    double s = 0;
    for (float f : v) {
      s += f * f;
    }
    if (s > 0) {
      float inv = (float) (1 / Math.sqrt(s));
      for (int i = 0; i < v.length; i++) {
        v[i] *= inv;
      }
    }
    return v;
  }

  /**
   * The pixel baseline: each image minus its own mean, L2-normalised (the dot product is then
   * the Pearson correlation of the pixels).
   */
  public static float[][] pixels(float[][] chw) {
    float[][] out = new float[chw.length][];
    for (int i = 0; i < chw.length; i++) {
      float[] v = chw[i].clone();
      double mean = 0;
      for (float f : v) {
        mean += f;
      }
      mean /= v.length;
      for (int k = 0; k < v.length; k++) {
        v[k] -= (float) mean;
      }
      out[i] = normalize(v);
    }
    return out;
  }
}
