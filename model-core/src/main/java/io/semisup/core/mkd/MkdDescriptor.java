package io.semisup.core.mkd;

/**
 * The Multiple-Kernel local Descriptor (MKD) of 32x32 grey patches, before whitening: 238
 * dimensions, L2-normalised (Mukundan, Tolias, Bursuc, Jegou, Chum, "Understanding and Improving
 * Kernel Local Descriptors", IJCV 2019, arXiv:1811.11147).
 *
 * <p>Per patch: Gaussian smoothing (5x5, sigma = 1.4 * 32 / 64, replicated border), central-
 * difference gradients, magnitude {@code m} and orientation {@code theta}. Each pixel's orientation
 * goes through a von Mises embedding (n = 3, kappa = 8: 7 dimensions) weighted by {@code sqrt(m)};
 * its position through a spatial embedding multiplied by a Gaussian mask
 * {@code exp(-rho^2 / rho_max^2)}. Two encodings, each the sum over pixels of the Kronecker product
 * of the two embeddings, each L2-normalised:
 *
 * <ul>
 *   <li><b>polar</b> (175 = 7 x 25): orientation relative to the pixel's polar angle
 *       ({@code theta - phi}, which makes it rotation-covariant), position as (phi, rho), von Mises
 *       n = 2, kappa = 8 on {@code phi} and on {@code rho * pi / sqrt 2};
 *   <li><b>Cartesian</b> (63 = 7 x 9): absolute orientation, position as (x, y), von Mises n = 1,
 *       kappa = 1 on {@code x * pi / 2} and {@code y * pi / 2}.
 * </ul>
 *
 * The two are concatenated (polar first) and L2-normalised again. Pixel coordinates run from -1 to
 * 1 over the patch, x to the right, y down; output index {@code i * 25 + a * 5 + b} is orientation
 * dimension {@code i}, phi dimension {@code a}, rho dimension {@code b} (Cartesian likewise with x
 * then y), the layout of the reference code.
 *
 * <p>Why it is fast: the spatial embeddings do not depend on the patch, so they are computed once
 * (a 1024 x 25 and a 1024 x 9 matrix, mask included); per patch only the 7 x 1024 orientation
 * embeddings are built (no trigonometric call: cos and sin of the orientation come from the
 * normalised gradient, their multiples from the angle-addition formulas) and multiplied by those
 * matrices, 64 patches at a time. Instances are immutable and thread-safe; {@link #describe}
 * allocates its own scratch (about 4 MB), so describe many patches per call.
 */
public final class MkdDescriptor {

  public static final int PATCH = 32;
  public static final int PIXELS = PATCH * PATCH;
  public static final int ORIENTATION_DIMS = 7;
  public static final int POLAR_SPATIAL_DIMS = 25;
  public static final int CARTESIAN_SPATIAL_DIMS = 9;
  public static final int POLAR_DIMS = ORIENTATION_DIMS * POLAR_SPATIAL_DIMS;
  public static final int CARTESIAN_DIMS = ORIENTATION_DIMS * CARTESIAN_SPATIAL_DIMS;
  public static final int DIMS = POLAR_DIMS + CARTESIAN_DIMS;

  /** Smoothing sigma of the reference: 1.4 for 64-pixel patches, scaled to the patch size. */
  public static final double SIGMA = 1.4 * PATCH / 64.0;

  private static final float EPS = 1e-8f;

  private final float[] blur;
  private final float[] orientationWeights;
  private final float[] cosPhi = new float[PIXELS];
  private final float[] sinPhi = new float[PIXELS];
  private final float[] polarBasis = new float[PIXELS * POLAR_SPATIAL_DIMS];
  private final float[] cartesianBasis = new float[PIXELS * CARTESIAN_SPATIAL_DIMS];

  public MkdDescriptor() {
    this.blur = gaussianTaps(SIGMA, 2);
    double[] w = new VonMisesEmbedding(3, 8).weights();
    this.orientationWeights = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      orientationWeights[i] = (float) w[i];
    }
    VonMisesEmbedding polar = new VonMisesEmbedding(2, 8);
    VonMisesEmbedding cartesian = new VonMisesEmbedding(1, 1);
    double rhoMax = Math.sqrt(2);
    for (int row = 0; row < PATCH; row++) {
      for (int col = 0; col < PATCH; col++) {
        int p = row * PATCH + col;
        double x = coordinate(col);
        double y = coordinate(row);
        double rho = Math.hypot(x, y);
        double phi = Math.atan2(y, x);
        cosPhi[p] = (float) Math.cos(phi);
        sinPhi[p] = (float) Math.sin(phi);
        double mask = Math.exp(-(rho / rhoMax) * (rho / rhoMax));
        kron(polar.embed(phi), polar.embed(rho * Math.PI / Math.sqrt(2)), mask, polarBasis,
            p * POLAR_SPATIAL_DIMS);
        kron(cartesian.embed(x * Math.PI / 2), cartesian.embed(y * Math.PI / 2), mask,
            cartesianBasis, p * CARTESIAN_SPATIAL_DIMS);
      }
    }
  }

  /** Normalised coordinate of pixel index {@code i}: -1 at the first pixel, 1 at the last. */
  static double coordinate(int i) {
    return -1 + 2.0 * i / (PATCH - 1);
  }

  /**
   * Describes {@code count} patches stored one after the other in {@code patches} (row-major,
   * 1024 values each, any intensity scale) and returns {@code count x 238} values, each row
   * L2-normalised.
   */
  public float[] describe(float[] patches, int count) {
    if (patches.length < count * PIXELS) {
      throw new IllegalArgumentException(
          "Cannot describe " + count + " patches: " + patches.length + " values given, "
              + count * PIXELS + " needed (32x32 each).");
    }
    float[] out = new float[count * DIMS];
    Scratch s = new Scratch();
    for (int start = 0; start < count; start += BATCH) {
      int batch = Math.min(BATCH, count - start);
      for (int n = 0; n < batch; n++) {
        smooth(patches, (start + n) * PIXELS, s.tmp, s.smooth);
        gradients(s.smooth, s.gx, s.gy);
        embedOrientations(s, n);
      }
      project(s.relative, polarBasis, POLAR_SPATIAL_DIMS, s.polar, batch);
      project(s.absolute, cartesianBasis, CARTESIAN_SPATIAL_DIMS, s.cartesian, batch);
      for (int n = 0; n < batch; n++) {
        int o = (start + n) * DIMS;
        for (int q = 0; q < POLAR_DIMS; q++) {
          out[o + q] = s.polar[q * BATCH + n];
        }
        for (int q = 0; q < CARTESIAN_DIMS; q++) {
          out[o + POLAR_DIMS + q] = s.cartesian[q * BATCH + n];
        }
        normalise(out, o, POLAR_DIMS);
        normalise(out, o + POLAR_DIMS, CARTESIAN_DIMS);
        normalise(out, o, DIMS);
      }
    }
    return out;
  }

  /** One patch's 238 values. */
  public float[] describe(float[] patch) {
    return describe(patch, 1);
  }

  /**
   * Patches described together: the batch is the innermost (vectorised) axis of the projection,
   * so that each basis value loaded is used for 64 patches.
   */
  private static final int BATCH = 64;

  private static final class Scratch {
    final float[] tmp = new float[PIXELS];
    final float[] smooth = new float[PIXELS];
    final float[] gx = new float[PIXELS];
    final float[] gy = new float[PIXELS];
    /** Orientation embeddings, layout {@code [pixel][dimension][patch of the batch]}. */
    final float[] relative = new float[PIXELS * ORIENTATION_DIMS * BATCH];
    final float[] absolute = new float[PIXELS * ORIENTATION_DIMS * BATCH];
    /** Projections, layout {@code [output dimension][patch of the batch]}. */
    final float[] polar = new float[POLAR_DIMS * BATCH];
    final float[] cartesian = new float[CARTESIAN_DIMS * BATCH];
  }

  /** Separable 5x5 Gaussian with replicated border: rows into {@code tmp}, columns into out. */
  private void smooth(float[] in, int offset, float[] tmp, float[] out) {
    float k0 = blur[0];
    float k1 = blur[1];
    float k2 = blur[2];
    for (int row = 0; row < PATCH; row++) {
      int r = offset + row * PATCH;
      int t = row * PATCH;
      for (int col = 0; col < PATCH; col++) {
        float m2 = in[r + Math.max(col - 2, 0)];
        float m1 = in[r + Math.max(col - 1, 0)];
        float p1 = in[r + Math.min(col + 1, PATCH - 1)];
        float p2 = in[r + Math.min(col + 2, PATCH - 1)];
        tmp[t + col] = k2 * in[r + col] + k1 * (m1 + p1) + k0 * (m2 + p2);
      }
    }
    for (int row = 0; row < PATCH; row++) {
      int m2 = Math.max(row - 2, 0) * PATCH;
      int m1 = Math.max(row - 1, 0) * PATCH;
      int c = row * PATCH;
      int p1 = Math.min(row + 1, PATCH - 1) * PATCH;
      int p2 = Math.min(row + 2, PATCH - 1) * PATCH;
      for (int col = 0; col < PATCH; col++) {
        out[c + col] =
            k2 * tmp[c + col] + k1 * (tmp[m1 + col] + tmp[p1 + col]) + k0 * (tmp[m2 + col] + tmp[p2 + col]);
      }
    }
  }

  /** Central differences, replicated border: {@code g(i) = (f(i + 1) - f(i - 1)) / 2}. */
  private static void gradients(float[] f, float[] gx, float[] gy) {
    for (int row = 0; row < PATCH; row++) {
      int c = row * PATCH;
      int up = Math.max(row - 1, 0) * PATCH;
      int down = Math.min(row + 1, PATCH - 1) * PATCH;
      for (int col = 0; col < PATCH; col++) {
        int left = Math.max(col - 1, 0);
        int right = Math.min(col + 1, PATCH - 1);
        gx[c + col] = 0.5f * (f[c + right] - f[c + left]);
        gy[c + col] = 0.5f * (f[down + col] - f[up + col]);
      }
    }
  }

  /**
   * The 7 weighted von Mises dimensions of each pixel's orientation, absolute ({@code theta}) and
   * relative ({@code theta - phi}), for patch {@code n} of the batch.
   */
  private void embedOrientations(Scratch s, int n) {
    float w0 = orientationWeights[0];
    float w1 = orientationWeights[1];
    float w2 = orientationWeights[2];
    float w3 = orientationWeights[3];
    float[] a = s.absolute;
    float[] r = s.relative;
    for (int p = 0; p < PIXELS; p++) {
      float gx = s.gx[p];
      float gy = s.gy[p];
      float r2 = gx * gx + gy * gy;
      float weight = (float) Math.sqrt((float) Math.sqrt(r2 + EPS) + EPS);
      float norm = (float) Math.sqrt(r2);
      // atan2(0, 0) = 0: a flat pixel points along x, as in the reference.
      float c = norm > 0 ? gx / norm : 1f;
      float sn = norm > 0 ? gy / norm : 0f;
      int at = p * ORIENTATION_DIMS * BATCH + n;
      embed(c, sn, weight, w0, w1, w2, w3, a, at);
      float cr = c * cosPhi[p] + sn * sinPhi[p];
      float sr = sn * cosPhi[p] - c * sinPhi[p];
      embed(cr, sr, weight, w0, w1, w2, w3, r, at);
    }
  }

  private static void embed(
      float c1, float s1, float weight, float w0, float w1, float w2, float w3, float[] out, int at) {
    float c2 = c1 * c1 - s1 * s1;
    float s2 = 2 * c1 * s1;
    float c3 = c2 * c1 - s2 * s1;
    float s3 = s2 * c1 + c2 * s1;
    out[at] = w0 * weight;
    out[at + BATCH] = w1 * c1 * weight;
    out[at + 2 * BATCH] = w2 * c2 * weight;
    out[at + 3 * BATCH] = w3 * c3 * weight;
    out[at + 4 * BATCH] = w1 * s1 * weight;
    out[at + 5 * BATCH] = w2 * s2 * weight;
    out[at + 6 * BATCH] = w3 * s3 * weight;
  }

  /**
   * {@code out[i * k + j][b] = sum_p embedding[p][i][b] * basis[p][j]}: for every patch b of the
   * batch, its 7 x 1024 orientation embedding times the 1024 x k spatial basis. Four pixels per
   * pass over the output and the batch innermost, so that the JIT turns the inner loop into SIMD
   * multiply-adds with one store per four products.
   */
  private static void project(float[] embedding, float[] basis, int k, float[] out, int batch) {
    java.util.Arrays.fill(out, 0, ORIENTATION_DIMS * k * BATCH, 0f);
    int pixelStride = ORIENTATION_DIMS * BATCH;
    for (int p = 0; p < PIXELS; p += 4) {
      for (int i = 0; i < ORIENTATION_DIMS; i++) {
        int e0 = p * pixelStride + i * BATCH;
        int e1 = e0 + pixelStride;
        int e2 = e1 + pixelStride;
        int e3 = e2 + pixelStride;
        for (int j = 0; j < k; j++) {
          float s0 = basis[p * k + j];
          float s1 = basis[(p + 1) * k + j];
          float s2 = basis[(p + 2) * k + j];
          float s3 = basis[(p + 3) * k + j];
          int o = (i * k + j) * BATCH;
          for (int b = 0; b < batch; b++) {
            out[o + b] += embedding[e0 + b] * s0 + embedding[e1 + b] * s1
                + embedding[e2 + b] * s2 + embedding[e3 + b] * s3;
          }
        }
      }
    }
  }

  static void normalise(float[] v, int offset, int length) {
    double sum = 0;
    for (int i = 0; i < length; i++) {
      sum += (double) v[offset + i] * v[offset + i];
    }
    if (sum <= 0) {
      return;
    }
    float scale = (float) (1 / Math.sqrt(sum));
    for (int i = 0; i < length; i++) {
      v[offset + i] *= scale;
    }
  }

  private static void kron(double[] a, double[] b, double mask, float[] out, int offset) {
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < b.length; j++) {
        out[offset + i * b.length + j] = (float) (a[i] * b[j] * mask);
      }
    }
  }

  /** Normalised Gaussian taps {@code [-radius..radius]}, returned as the first radius + 1. */
  private static float[] gaussianTaps(double sigma, int radius) {
    double[] g = new double[2 * radius + 1];
    double sum = 0;
    for (int i = -radius; i <= radius; i++) {
      g[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
      sum += g[i + radius];
    }
    float[] taps = new float[radius + 1];
    for (int i = 0; i <= radius; i++) {
      taps[i] = (float) (g[i] / sum);
    }
    return taps;
  }
}
