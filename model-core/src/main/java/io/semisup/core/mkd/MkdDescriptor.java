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
 * matrices. Every step runs on 16 patches side by side (SIMD across patches, no per-patch
 * branches). Instances are immutable and thread-safe; {@link #describe} allocates its own scratch
 * (about 0.35 MB), so describe many patches per call.
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
    for (int start = 0; start < count; start += LANES) {
      int batch = Math.min(LANES, count - start);
      transpose(patches, start, batch, s.image);
      smooth(s.image, s.tmp, s.smooth);
      gradients(s.smooth, s.gx, s.gy);
      zero(s.polar);
      zero(s.cartesian);
      for (int p = 0; p < PIXELS; p += PIXEL_BLOCK) {
        for (int q = 0; q < PIXEL_BLOCK; q++) {
          embedOrientations(s, p + q, q);
        }
        project(s.relative, polarBasis, POLAR_SPATIAL_DIMS, p, s.polar);
        project(s.absolute, cartesianBasis, CARTESIAN_SPATIAL_DIMS, p, s.cartesian);
      }
      for (int n = 0; n < batch; n++) {
        int o = (start + n) * DIMS;
        for (int i = 0; i < ORIENTATION_DIMS; i++) {
          for (int j = 0; j < POLAR_SPATIAL_DIMS; j++) {
            out[o + i * POLAR_SPATIAL_DIMS + j] = s.polar[j][i * LANES + n];
          }
          for (int j = 0; j < CARTESIAN_SPATIAL_DIMS; j++) {
            out[o + POLAR_DIMS + i * CARTESIAN_SPATIAL_DIMS + j] = s.cartesian[j][i * LANES + n];
          }
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
   * Patches described side by side: every buffer below holds, per pixel (or output value), one
   * value per patch of the batch in a row of its own, so that each step is the same arithmetic on
   * 16 patches at once, which the JIT compiles to SIMD instructions. (Rows of their own, indexed
   * from 0, matter: the JIT of Java 17 does not vectorise stores at a loop-invariant offset.)
   */
  private static final int LANES = 16;

  /** Pixels whose embeddings are built, then projected, together (one output pass per block). */
  private static final int PIXEL_BLOCK = 4;

  /** Length of an embedding row: 7 orientation dimensions x the lanes. */
  private static final int SPAN = ORIENTATION_DIMS * LANES;

  private static final class Scratch {
    final float[][] image = new float[PIXELS][LANES];
    final float[][] tmp = new float[PIXELS][LANES];
    final float[][] smooth = new float[PIXELS][LANES];
    final float[][] gx = new float[PIXELS][LANES];
    final float[][] gy = new float[PIXELS][LANES];
    /** Orientation embeddings of a pixel block: {@code [pixel][dimension * LANES + lane]}. */
    final float[][] relative = new float[PIXEL_BLOCK][SPAN];
    final float[][] absolute = new float[PIXEL_BLOCK][SPAN];
    /** Projections: {@code [spatial dimension][orientation dimension * LANES + lane]}. */
    final float[][] polar = new float[POLAR_SPATIAL_DIMS][SPAN];
    final float[][] cartesian = new float[CARTESIAN_SPATIAL_DIMS][SPAN];
  }

  private static void zero(float[][] rows) {
    for (float[] row : rows) {
      java.util.Arrays.fill(row, 0f);
    }
  }

  /** Patches {@code start ..} into rows per pixel, one lane per patch; missing lanes are zero. */
  private static void transpose(float[] patches, int start, int batch, float[][] out) {
    if (batch < LANES) {
      zero(out);
    }
    for (int n = 0; n < batch; n++) {
      int in = (start + n) * PIXELS;
      for (int p = 0; p < PIXELS; p++) {
        out[p][n] = patches[in + p];
      }
    }
  }

  /** Separable 5x5 Gaussian with replicated border: rows into {@code tmp}, columns into out. */
  private void smooth(float[][] in, float[][] tmp, float[][] out) {
    float k0 = blur[0];
    float k1 = blur[1];
    float k2 = blur[2];
    for (int row = 0; row < PATCH; row++) {
      int r = row * PATCH;
      for (int col = 0; col < PATCH; col++) {
        blend(tmp[r + col], in[r + col], in[r + Math.max(col - 1, 0)],
            in[r + Math.min(col + 1, PATCH - 1)], in[r + Math.max(col - 2, 0)],
            in[r + Math.min(col + 2, PATCH - 1)], k0, k1, k2);
      }
    }
    for (int row = 0; row < PATCH; row++) {
      int m2 = Math.max(row - 2, 0) * PATCH;
      int m1 = Math.max(row - 1, 0) * PATCH;
      int p1 = Math.min(row + 1, PATCH - 1) * PATCH;
      int p2 = Math.min(row + 2, PATCH - 1) * PATCH;
      for (int col = 0; col < PATCH; col++) {
        blend(out[row * PATCH + col], tmp[row * PATCH + col], tmp[m1 + col], tmp[p1 + col],
            tmp[m2 + col], tmp[p2 + col], k0, k1, k2);
      }
    }
  }

  private static void blend(float[] out, float[] c, float[] m1, float[] p1, float[] m2, float[] p2,
      float k0, float k1, float k2) {
    for (int b = 0; b < LANES; b++) {
      out[b] = k2 * c[b] + k1 * (m1[b] + p1[b]) + k0 * (m2[b] + p2[b]);
    }
  }

  /** Central differences, replicated border: {@code g(i) = (f(i + 1) - f(i - 1)) / 2}. */
  private static void gradients(float[][] f, float[][] gx, float[][] gy) {
    for (int row = 0; row < PATCH; row++) {
      int r = row * PATCH;
      int up = Math.max(row - 1, 0) * PATCH;
      int down = Math.min(row + 1, PATCH - 1) * PATCH;
      for (int col = 0; col < PATCH; col++) {
        difference(gx[r + col], f[r + Math.min(col + 1, PATCH - 1)], f[r + Math.max(col - 1, 0)]);
        difference(gy[r + col], f[down + col], f[up + col]);
      }
    }
  }

  private static void difference(float[] out, float[] plus, float[] minus) {
    for (int b = 0; b < LANES; b++) {
      out[b] = 0.5f * (plus[b] - minus[b]);
    }
  }

  /**
   * Added to {@code gx} before normalising the gradient: negligible against any real gradient,
   * it makes a zero gradient point along x (orientation 0, as atan2(0, 0)) without a branch.
   */
  private static final float TINY = 1e-18f;

  /**
   * The 7 weighted von Mises dimensions of pixel {@code p}'s orientation, absolute ({@code theta})
   * and relative ({@code theta - phi}), into slot {@code q} of the block. No trigonometric call:
   * cos and sin of theta are the normalised gradient; those of theta - phi, 2 theta and 3 theta
   * follow from the angle-addition formulas.
   */
  private void embedOrientations(Scratch s, int p, int q) {
    float w0 = orientationWeights[0];
    float w1 = orientationWeights[1];
    float w2 = orientationWeights[2];
    float w3 = orientationWeights[3];
    float cp = cosPhi[p];
    float sp = sinPhi[p];
    float[] gxs = s.gx[p];
    float[] gys = s.gy[p];
    float[] a = s.absolute[q];
    float[] r = s.relative[q];
    for (int b = 0; b < LANES; b++) {
      float gx = gxs[b];
      float gy = gys[b];
      float r2 = gx * gx + gy * gy;
      float weight = (float) Math.sqrt((float) Math.sqrt(r2 + EPS) + EPS);
      float x = gx + TINY;
      float inv = 1f / (float) Math.sqrt(x * x + gy * gy);
      float c1 = x * inv;
      float s1 = gy * inv;
      float c2 = c1 * c1 - s1 * s1;
      float s2 = 2 * c1 * s1;
      float c3 = c2 * c1 - s2 * s1;
      float s3 = s2 * c1 + c2 * s1;
      a[b] = w0 * weight;
      a[LANES + b] = w1 * weight * c1;
      a[2 * LANES + b] = w2 * weight * c2;
      a[3 * LANES + b] = w3 * weight * c3;
      a[4 * LANES + b] = w1 * weight * s1;
      a[5 * LANES + b] = w2 * weight * s2;
      a[6 * LANES + b] = w3 * weight * s3;
      float rc1 = c1 * cp + s1 * sp;
      float rs1 = s1 * cp - c1 * sp;
      float rc2 = rc1 * rc1 - rs1 * rs1;
      float rs2 = 2 * rc1 * rs1;
      float rc3 = rc2 * rc1 - rs2 * rs1;
      float rs3 = rs2 * rc1 + rc2 * rs1;
      r[b] = w0 * weight;
      r[LANES + b] = w1 * weight * rc1;
      r[2 * LANES + b] = w2 * weight * rc2;
      r[3 * LANES + b] = w3 * weight * rc3;
      r[4 * LANES + b] = w1 * weight * rs1;
      r[5 * LANES + b] = w2 * weight * rs2;
      r[6 * LANES + b] = w3 * weight * rs3;
    }
  }

  /**
   * Adds pixels {@code p .. p + 3}'s share of {@code out[j][i] = sum_p embedding[p][i] *
   * basis[p][j]}, the 7 x 1024 by 1024 x k matrix product, for every lane: for one basis column
   * the inner loop runs over all 7 x 16 (dimension, lane) values, long enough to vectorise well;
   * four pixels per pass, so one store per four multiply-adds.
   */
  private static void project(float[][] embedding, float[] basis, int k, int p, float[][] out) {
    float[] e0 = embedding[0];
    float[] e1 = embedding[1];
    float[] e2 = embedding[2];
    float[] e3 = embedding[3];
    for (int j = 0; j < k; j++) {
      float s0 = basis[p * k + j];
      float s1 = basis[(p + 1) * k + j];
      float s2 = basis[(p + 2) * k + j];
      float s3 = basis[(p + 3) * k + j];
      float[] o = out[j];
      for (int t = 0; t < SPAN; t++) {
        o[t] += e0[t] * s0 + e1[t] * s1 + e2[t] * s2 + e3[t] * s3;
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
