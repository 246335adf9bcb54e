package io.semisup.core.train;

import java.nio.FloatBuffer;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-channel mean and population variance of a dense NCHW float tensor, the statistics batch
 * normalization needs in training.
 *
 * <p>Why hand-written: DL4J's oneDNN batch-norm helper computes them with ND4J's generic
 * reductions over dimensions (0, 2, 3), and its {@code Variance} op is slow on this layout: 9.5 ms
 * for a [128, 16, 28, 28] tensor on one core against 0.9 ms for a loop over contiguous
 * H x W runs (measured; about a fifth of resnet-small's training step went to these reductions).
 * Two passes (mean, then squared deviations) keep the variance exact to float rounding even when
 * the mean is large; all sums are double.
 */
public final class ChannelStats {

  private ChannelStats() {}

  /** Whether {@link #meanAndVariance} can read {@code x}: FLOAT, rank 4, dense row-major. */
  public static boolean supports(INDArray x) {
    return x.dataType() == DataType.FLOAT
        && x.rank() == 4
        && x.ordering() == 'c'
        && Arrays.equals(x.stride(), Nd4j.getStrides(x.shape(), 'c'));
  }

  /**
   * Writes the mean and the population variance (divided by N x H x W) of each channel of
   * {@code x} [N, C, H, W] into {@code mean} and {@code var} (length C each).
   */
  public static void meanAndVariance(INDArray x, INDArray mean, INDArray var) {
    if (!supports(x)) {
      throw new IllegalArgumentException(
          "Channel statistics need a dense row-major FLOAT [N, C, H, W] tensor, got "
              + x.dataType() + " " + Arrays.toString(x.shape()) + " order " + x.ordering());
    }
    int n = (int) x.size(0);
    int c = (int) x.size(1);
    int hw = (int) (x.size(2) * x.size(3));
    if (mean.length() != c || var.length() != c) {
      throw new IllegalArgumentException(
          "Channel statistics of " + c + " channels need outputs of length " + c + ", got "
              + mean.length() + " and " + var.length());
    }
    FloatBuffer data = x.data().asNioFloat();
    long base = x.offset();
    float[] run = new float[hw];
    double count = (double) n * hw;
    double[] sum = new double[c];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < c; k++) {
        data.get((int) (base + ((long) i * c + k) * hw), run, 0, hw);
        sum[k] += sum(run);
      }
    }
    double[] sq = new double[c];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < c; k++) {
        data.get((int) (base + ((long) i * c + k) * hw), run, 0, hw);
        sq[k] += squaredDeviations(run, sum[k] / count);
      }
    }
    for (int k = 0; k < c; k++) {
      mean.putScalar(k, sum[k] / count);
      var.putScalar(k, sq[k] / count);
    }
  }

  /**
   * Sum of one run in double with four independent accumulators (float partials lost up to 4e-7
   * of the variance on 784-element runs; double keeps it at ND4J's 4e-8, and costs little here).
   */
  private static double sum(float[] v) {
    double a = 0, b = 0, c = 0, d = 0;
    int j = 0;
    for (; j + 3 < v.length; j += 4) {
      a += v[j];
      b += v[j + 1];
      c += v[j + 2];
      d += v[j + 3];
    }
    for (; j < v.length; j++) {
      a += v[j];
    }
    return a + b + c + d;
  }

  private static double squaredDeviations(float[] v, double mu) {
    double a = 0, b = 0, c = 0, d = 0;
    int j = 0;
    for (; j + 3 < v.length; j += 4) {
      double p = v[j] - mu;
      double q = v[j + 1] - mu;
      double r = v[j + 2] - mu;
      double s = v[j + 3] - mu;
      a += p * p;
      b += q * q;
      c += r * r;
      d += s * s;
    }
    for (; j < v.length; j++) {
      double p = v[j] - mu;
      a += p * p;
    }
    return a + b + c + d;
  }
}
