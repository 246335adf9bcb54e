package io.semisup.core.train;

import io.semisup.core.image.Augmenter;
import io.semisup.core.image.InputSpec;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Packs training examples into one minibatch: augmentation and label smoothing applied the same
 * way by the single-JVM trainer and the Spark trainer, so both train on identical batches.
 */
public final class Minibatch {

  private Minibatch() {}

  /**
   * Features {@code [b, c, h, w]} and smoothed one-hot labels {@code [b, classes]} of the given
   * examples, augmenting each with {@code rnd} (in order) unless {@code aug} is the identity.
   */
  public static INDArray[] pack(
      float[][] x, int[] y, InputSpec spec, int numClasses, Augmenter aug, double labelSmoothing, Random rnd) {
    return pack(x, y, spec, numClasses, aug, labelSmoothing, Mixup.NONE, rnd);
  }

  /** As the class-index overload above, then mixed with {@code mixup}. */
  public static INDArray[] pack(
      float[][] x, int[] y, InputSpec spec, int numClasses, Augmenter aug, double labelSmoothing,
      Mixup mixup, Random rnd) {
    float[][] targets = new float[y.length][];
    for (int k = 0; k < y.length; k++) {
      targets[k] = oneHot(y[k], numClasses);
    }
    return pack(x, targets, spec, aug, labelSmoothing, mixup, rnd);
  }

  /**
   * Features {@code [b, c, h, w]} and target distributions {@code [b, classes]}: each row of
   * {@code targets} (a one-hot label or a teacher's soft pseudo-label) mixed with the uniform
   * distribution, {@code (1 - eps) t + eps / classes}, augmenting each example with {@code rnd}
   * (in order) unless {@code aug} is the identity.
   */
  public static INDArray[] pack(
      float[][] x, float[][] targets, InputSpec spec, Augmenter aug, double labelSmoothing, Random rnd) {
    return pack(x, targets, spec, aug, labelSmoothing, Mixup.NONE, rnd);
  }

  /**
   * As {@link #pack(float[][], float[][], InputSpec, Augmenter, double, Random)}, then mixes the
   * augmented, smoothed minibatch with {@code mixup} (drawing from {@code rnd} after the
   * augmentation).
   */
  public static INDArray[] pack(
      float[][] x, float[][] targets, InputSpec spec, Augmenter aug, double labelSmoothing,
      Mixup mixup, Random rnd) {
    int b = x.length;
    if (targets.length != b || b == 0) {
      throw new IllegalArgumentException(
          "Cannot pack " + b + " examples with " + targets.length + " target rows");
    }
    int numClasses = targets[0].length;
    int size = spec.size();
    float eps = (float) labelSmoothing;
    float off = eps / numClasses;
    float keep = 1 - eps;
    float[] f = new float[b * size];
    float[] l = new float[b * numClasses];
    for (int k = 0; k < b; k++) {
      float[] t = aug.isIdentity() ? x[k] : aug.apply(x[k], spec, rnd);
      System.arraycopy(t, 0, f, k * size, size);
      for (int c = 0; c < numClasses; c++) {
        l[k * numClasses + c] = keep * targets[k][c] + off;
      }
    }
    mixup.apply(f, size, l, numClasses, b, rnd);
    return new INDArray[] {
      Nd4j.create(f, new long[] {b, spec.channels(), spec.height(), spec.width()}, 'c'),
      Nd4j.create(l, new long[] {b, numClasses}, 'c')
    };
  }

  /** The one-hot row of class {@code y}. */
  public static float[] oneHot(int y, int numClasses) {
    if (y < 0 || y >= numClasses) {
      throw new IllegalArgumentException("Cannot encode label " + y + " of " + numClasses + " classes");
    }
    float[] t = new float[numClasses];
    t[y] = 1;
    return t;
  }
}
