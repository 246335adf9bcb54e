package io.semisup.core.mkd;

import io.semisup.core.UsageError;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealVector;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;

/**
 * Unsupervised whitening of MKD descriptors: PCA with attenuation ({@code pcawt} in the paper),
 * learned from descriptors alone, without match labels.
 *
 * <p>{@code y = normalise((x - mean) V diag(lambda^power))} over the {@code outDims} leading
 * eigenvectors {@code V} of the descriptors' covariance. Full whitening ({@code power = -0.5})
 * lets the noisy low-variance directions dominate; the paper's attenuation {@code power = -0.5 t}
 * with {@code t = 0.7} ({@link #DEFAULT_POWER}) keeps some of the variance ordering. Why learned
 * here: the reference code downloads whitening trained on PhotoTour, which this project cannot
 * reach; PCA needs only our own patches.
 */
public final class MkdWhitening {

  public static final int DEFAULT_OUT_DIMS = 128;
  public static final double DEFAULT_POWER = -0.35;

  private final int inDims;
  private final int outDims;
  private final float[] mean;
  /** {@code inDims x outDims}, row-major: eigenvectors already scaled by lambda^power. */
  private final float[] projection;
  private final double[] eigenvalues;

  private MkdWhitening(int inDims, int outDims, float[] mean, float[] projection, double[] eigenvalues) {
    this.inDims = inDims;
    this.outDims = outDims;
    this.mean = mean;
    this.projection = projection;
    this.eigenvalues = eigenvalues;
  }

  /** {@link #learn(float[], int, int, int, double)} with 238 to 128 dimensions and power -0.35. */
  public static MkdWhitening learn(float[] descriptors, int count) {
    return learn(descriptors, count, MkdDescriptor.DIMS, DEFAULT_OUT_DIMS, DEFAULT_POWER);
  }

  /**
   * Learns the whitening from {@code count} descriptors of {@code inDims} values each.
   *
   * @param power exponent applied to the eigenvalues (-0.5: full whitening; 0: plain PCA)
   */
  public static MkdWhitening learn(float[] descriptors, int count, int inDims, int outDims, double power) {
    if (outDims > inDims || outDims < 1) {
      throw new IllegalArgumentException(
          "Cannot learn whitening to " + outDims + " dims from " + inDims + ": need 1 <= out <= in.");
    }
    if (count <= inDims) {
      throw new IllegalArgumentException(
          "Cannot learn whitening from " + count + " descriptors of " + inDims
              + " dims: the covariance would be singular. Give more than " + inDims + " descriptors.");
    }
    double[] mu = new double[inDims];
    for (int n = 0; n < count; n++) {
      for (int d = 0; d < inDims; d++) {
        mu[d] += descriptors[n * inDims + d];
      }
    }
    for (int d = 0; d < inDims; d++) {
      mu[d] /= count;
    }
    double[][] cov = new double[inDims][inDims];
    double[] centred = new double[inDims];
    for (int n = 0; n < count; n++) {
      for (int d = 0; d < inDims; d++) {
        centred[d] = descriptors[n * inDims + d] - mu[d];
      }
      for (int a = 0; a < inDims; a++) {
        double ca = centred[a];
        double[] row = cov[a];
        for (int b = a; b < inDims; b++) {
          row[b] += ca * centred[b];
        }
      }
    }
    for (int a = 0; a < inDims; a++) {
      for (int b = a; b < inDims; b++) {
        cov[a][b] /= count - 1;
        cov[b][a] = cov[a][b];
      }
    }
    EigenDecomposition eigen = new EigenDecomposition(new Array2DRowRealMatrix(cov, false));
    double[] values = eigen.getRealEigenvalues();
    Integer[] order = IntStream.range(0, inDims).boxed().toArray(Integer[]::new);
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> values[i]).reversed());
    // Eigenvalues at round-off level would be blown up by the negative power: floor them.
    double floor = Math.max(values[order[0]], 0) * 1e-9 + Double.MIN_NORMAL;
    float[] projection = new float[inDims * outDims];
    double[] kept = new double[outDims];
    for (int k = 0; k < outDims; k++) {
      int idx = order[k];
      kept[k] = Math.max(values[idx], floor);
      double scale = Math.pow(kept[k], power);
      RealVector v = eigen.getEigenvector(idx);
      for (int d = 0; d < inDims; d++) {
        projection[d * outDims + k] = (float) (v.getEntry(d) * scale);
      }
    }
    float[] mean = new float[inDims];
    for (int d = 0; d < inDims; d++) {
      mean[d] = (float) mu[d];
    }
    return new MkdWhitening(inDims, outDims, mean, projection, kept);
  }

  public int inDims() {
    return inDims;
  }

  public int outDims() {
    return outDims;
  }

  /** The kept eigenvalues, largest first. */
  public double[] eigenvalues() {
    return eigenvalues.clone();
  }

  /** Whitens {@code count} descriptors of {@link #inDims()} values; rows are L2-normalised. */
  public float[] apply(float[] descriptors, int count) {
    float[] out = new float[count * outDims];
    // One accumulator row indexed from 0: Java 17's JIT vectorises that loop, not one that stores
    // at an offset into the output.
    float[] acc = new float[outDims];
    for (int n = 0; n < count; n++) {
      int in = n * inDims;
      Arrays.fill(acc, 0f);
      for (int d = 0; d < inDims; d++) {
        float c = descriptors[in + d] - mean[d];
        int row = d * outDims;
        for (int k = 0; k < outDims; k++) {
          acc[k] += c * projection[row + k];
        }
      }
      System.arraycopy(acc, 0, out, n * outDims, outDims);
      MkdDescriptor.normalise(out, n * outDims, outDims);
    }
    return out;
  }

  private static final int MAGIC = 0x4d4b4457; // "MKDW"
  private static final int VERSION = 1;

  /**
   * Saves the whitening (dims, mean, projection, eigenvalues; big-endian floats), so that the
   * model learned once is applied by every later verification.
   */
  public void write(Path file) throws IOException {
    try (DataOutputStream out =
        new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeInt(inDims);
      out.writeInt(outDims);
      for (float v : mean) {
        out.writeFloat(v);
      }
      for (float v : projection) {
        out.writeFloat(v);
      }
      for (double v : eigenvalues) {
        out.writeDouble(v);
      }
    }
  }

  /** Reads a whitening saved by {@link #write}. */
  public static MkdWhitening read(Path file) {
    try (DataInputStream in =
        new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
      if (in.readInt() != MAGIC || in.readInt() != VERSION) {
        throw new UsageError("Cannot read the MKD whitening " + file
            + ": not a version-" + VERSION + " whitening file. Learn it again (MkdWhitening.learn).");
      }
      int inDims = in.readInt();
      int outDims = in.readInt();
      float[] mean = new float[inDims];
      for (int i = 0; i < inDims; i++) {
        mean[i] = in.readFloat();
      }
      float[] projection = new float[inDims * outDims];
      for (int i = 0; i < projection.length; i++) {
        projection[i] = in.readFloat();
      }
      double[] eigenvalues = new double[outDims];
      for (int i = 0; i < outDims; i++) {
        eigenvalues[i] = in.readDouble();
      }
      return new MkdWhitening(inDims, outDims, mean, projection, eigenvalues);
    } catch (IOException e) {
      throw new UsageError("Cannot read the MKD whitening " + file + ": " + e.getMessage()
          + ". Check the path or learn it again.", e);
    }
  }
}
