package io.semisup.core.train;

import io.semisup.core.image.Augmenter;
import io.semisup.core.image.InputSpec;
import java.util.Arrays;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Packs training examples into one minibatch: augmentation and label smoothing applied the same
 * way by the single-JVM trainer and the Spark trainer, so both train on identical batches.
 */
public final class Minibatch {

  static {
    // Spark executors pack minibatches before dl4j-spark's worker builds its network copy.
    NativeHelpers.enable();
  }

  private Minibatch() {}

  /**
   * Features {@code [b, c, h, w]} and smoothed one-hot labels {@code [b, classes]} of the given
   * examples, augmenting each with {@code rnd} (in order) unless {@code aug} is the identity.
   */
  public static INDArray[] pack(
      float[][] x, int[] y, InputSpec spec, int numClasses, Augmenter aug, double labelSmoothing, Random rnd) {
    int b = x.length;
    int size = spec.size();
    float eps = (float) labelSmoothing;
    float off = eps / numClasses;
    float on = 1 - eps + off;
    float[] f = new float[b * size];
    float[] l = new float[b * numClasses];
    Arrays.fill(l, off);
    for (int k = 0; k < b; k++) {
      float[] t = aug.isIdentity() ? x[k] : aug.apply(x[k], spec, rnd);
      System.arraycopy(t, 0, f, k * size, size);
      l[k * numClasses + y[k]] = on;
    }
    return new INDArray[] {
      Nd4j.create(f, new long[] {b, spec.channels(), spec.height(), spec.width()}, 'c'),
      Nd4j.create(l, new long[] {b, numClasses}, 'c')
    };
  }
}
