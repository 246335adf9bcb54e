package io.semisup.core.dl4j;

import java.nio.FloatBuffer;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The weight and bias gradients of a stride-1, dilation-1 NCHW convolution, and nothing else:
 * no gradient for its input.
 *
 * <p>Why hand-written: a network's first convolution reads the images, whose gradient nobody
 * needs, but libnd4j's oneDNN {@code conv2d_bp} always computes it, and for an input of 1 or 3
 * channels oneDNN pads the channels to 16 and picks Winograd: resnet-small's 1-channel stem spent
 * 13.8 ms per 128-image step in backward-data alone (a quarter of the whole step's oneDNN time,
 * more than any other primitive), plus 2.8 ms in backward-weights and the reorders around both.
 * Here the weight gradient is N x C_out x C_in x K x K AXPYs over padded planes (about 1 ms for
 * that step on one core); {@link FastConvolution} calls it for the convolution that reads a
 * network input.
 *
 * <p>The method: with the input plane zero-padded to width Wp = W_out + K_w - 1 and the output
 * gradient plane widened to Wp with zeros, dW[o][c][i][j] is the dot product of the flattened
 * gradient plane with the flattened input plane shifted by i x Wp + j, so every product runs over
 * one contiguous range (vectorized by the JIT). Partial sums are float lanes per (o, c, i, j)
 * summed over the images, reduced in double at the end.
 */
public final class ConvWeightGradients {

  private ConvWeightGradients() {}

  /** Whether {@link #compute} reads or writes {@code a}: what {@link BatchNormKernels} reads. */
  public static boolean supports(INDArray a) {
    return BatchNormKernels.supports(a);
  }

  /** Floats of scratch {@link #compute} allocates for these shapes (mostly its partial sums). */
  public static long scratchFloats(INDArray x, INDArray dy, INDArray dW) {
    long wp = dy.size(3) + dW.size(3) - 1;
    long span = dy.size(2) * wp;
    long taps = dW.size(2) * dW.size(3);
    return (dW.length() + x.size(1) * taps + 1) * span
        + x.size(1) * ((dy.size(2) + dW.size(2) - 1) * wp + dW.size(3)) + x.size(2) * x.size(3);
  }

  /**
   * Writes dL/dW into {@code dW} [C_out, C_in, K_h, K_w] and, when {@code db} is not null,
   * dL/db (length C_out) into {@code db}, for a stride-1, dilation-1 convolution of {@code x}
   * [N, C_in, H, W] with {@code padTop} rows and {@code padLeft} columns of zero padding before
   * the input (the padding after follows from the output size) and output gradient {@code dy}
   * [N, C_out, H_out, W_out].
   */
  public static void compute(INDArray x, INDArray dy, int padTop, int padLeft, INDArray dW, INDArray db) {
    require(supports(x), "input", x);
    require(supports(dy), "output gradient", dy);
    require(dW.rank() == 4 && dW.dataType() == DataType.FLOAT, "weight gradient", dW);
    int n = (int) x.size(0);
    int cIn = (int) x.size(1);
    int h = (int) x.size(2);
    int w = (int) x.size(3);
    int cOut = (int) dy.size(1);
    int hOut = (int) dy.size(2);
    int wOut = (int) dy.size(3);
    int kh = (int) dW.size(2);
    int kw = (int) dW.size(3);
    if (dy.size(0) != n || dW.size(0) != cOut || dW.size(1) != cIn
        || hOut + kh - 1 < padTop + h || wOut + kw - 1 < padLeft + w || padTop < 0 || padLeft < 0
        || (db != null && db.length() != cOut)) {
      throw new IllegalArgumentException("Inconsistent stride-1 convolution: x "
          + Arrays.toString(x.shape()) + ", dy " + Arrays.toString(dy.shape()) + ", dW "
          + Arrays.toString(dW.shape()) + ", padding " + padTop + "/" + padLeft
          + (db == null ? "" : ", db " + Arrays.toString(db.shape())));
    }
    int wp = wOut + kw - 1;
    int hp = hOut + kh - 1;
    int span = hOut * wp; // flattened positions of the widened gradient plane
    int taps = kh * kw;
    int xpPlane = hp * wp + kw; // + kw: the last shifted window stays inside
    float[] xp = new float[cIn * xpPlane]; // zero-padded input planes of one image
    float[][] shifted = new float[cIn * taps][span]; // xp shifted by i x wp + j, at offset 0
    float[] gp = new float[span];
    float[] gRun = new float[hOut * wOut];
    float[] xRun = new float[h * w];
    float[][] acc = new float[cOut * cIn * taps][span];
    float[][] biasAcc = db == null ? null : new float[cOut][hOut * wOut];
    FloatBuffer xs = x.data().asNioFloat();
    FloatBuffer gs = dy.data().asNioFloat();
    for (int b = 0; b < n; b++) {
      for (int c = 0; c < cIn; c++) {
        xs.get((int) (x.offset() + ((long) b * cIn + c) * h * w), xRun, 0, h * w);
        int base = c * xpPlane;
        for (int r = 0; r < h; r++) {
          System.arraycopy(xRun, r * w, xp, base + (r + padTop) * wp + padLeft, w);
        }
        for (int i = 0; i < kh; i++) {
          for (int j = 0; j < kw; j++) {
            System.arraycopy(xp, base + i * wp + j, shifted[c * taps + i * kw + j], 0, span);
          }
        }
      }
      for (int o = 0; o < cOut; o++) {
        gs.get((int) (dy.offset() + ((long) b * cOut + o) * hOut * wOut), gRun, 0, hOut * wOut);
        for (int r = 0; r < hOut; r++) {
          System.arraycopy(gRun, r * wOut, gp, r * wp, wOut); // columns wOut..wp-1 stay zero
        }
        if (db != null) {
          BatchNormKernels.add(gRun, biasAcc[o]); // float lanes: a double sum per element costs more than dW
        }
        for (int k = 0; k < cIn * taps; k++) {
          axpy(gp, shifted[k], acc[o * cIn * taps + k]);
        }
      }
    }
    for (int o = 0; o < cOut; o++) {
      for (int c = 0; c < cIn; c++) {
        for (int i = 0; i < kh; i++) {
          for (int j = 0; j < kw; j++) {
            dW.putScalar(new long[] {o, c, i, j}, BatchNormKernels.sum(acc[(o * cIn + c) * taps + i * kw + j]));
          }
        }
      }
      if (db != null) {
        db.putScalar(o, BatchNormKernels.sum(biasAcc[o]));
      }
    }
  }

  /**
   * acc[t] += g[t] * x[t]: the loop the JIT vectorizes. All three at offset 0 on purpose: JDK 17's
   * C2 does not vectorize this loop when an array is read at a loop-invariant offset (4.6 ms
   * against 0.8 ms for 18,432 runs of 840), hence the shifted copies.
   */
  private static void axpy(float[] g, float[] x, float[] acc) {
    for (int t = 0; t < acc.length; t++) {
      acc[t] += g[t] * x[t];
    }
  }

  private static void require(boolean ok, String what, INDArray a) {
    if (!ok) {
      throw new IllegalArgumentException("Convolution weight gradients need a dense row-major FLOAT rank-4 "
          + what + ", got " + a.dataType() + " " + Arrays.toString(a.shape()) + " order " + a.ordering());
    }
  }
}
