package io.semisup.core.mkd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class MkdDescriptorTest {

  private static final MkdDescriptor MKD = new MkdDescriptor();

  /** A smooth random texture in [0.2, 0.8]: a few oriented sinusoids and blobs, seeded. */
  static float[] texture(long seed) {
    Random random = new Random(seed);
    float[] patch = new float[MkdDescriptor.PIXELS];
    double[][] waves = new double[4][];
    for (int w = 0; w < waves.length; w++) {
      waves[w] = new double[] {random.nextGaussian() * 0.4, random.nextGaussian() * 0.4,
          random.nextDouble() * 2 * Math.PI, 0.5 + random.nextDouble()};
    }
    double[][] blobs = new double[3][];
    for (int b = 0; b < blobs.length; b++) {
      blobs[b] = new double[] {random.nextDouble() * 32, random.nextDouble() * 32,
          3 + random.nextDouble() * 5, random.nextGaussian()};
    }
    double min = Double.MAX_VALUE;
    double max = -Double.MAX_VALUE;
    double[] raw = new double[patch.length];
    for (int r = 0; r < 32; r++) {
      for (int c = 0; c < 32; c++) {
        double v = 0;
        for (double[] w : waves) {
          v += w[3] * Math.sin(w[0] * c + w[1] * r + w[2]);
        }
        for (double[] b : blobs) {
          double d2 = (c - b[0]) * (c - b[0]) + (r - b[1]) * (r - b[1]);
          v += b[3] * Math.exp(-d2 / (2 * b[2] * b[2]));
        }
        raw[r * 32 + c] = v;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    for (int i = 0; i < patch.length; i++) {
      patch[i] = (float) (0.2 + 0.6 * (raw[i] - min) / (max - min));
    }
    return patch;
  }

  static double cosine(float[] a, int offA, float[] b, int offB, int length) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < length; i++) {
      dot += (double) a[offA + i] * b[offB + i];
      na += (double) a[offA + i] * a[offA + i];
      nb += (double) b[offB + i] * b[offB + i];
    }
    return dot / Math.sqrt(na * nb);
  }

  static double norm(float[] v, int off, int length) {
    double s = 0;
    for (int i = 0; i < length; i++) {
      s += (double) v[off + i] * v[off + i];
    }
    return Math.sqrt(s);
  }

  @Test
  void dimensionsAre175Plus63Is238AndWhitenedIs128() {
    assertThat(MkdDescriptor.POLAR_DIMS).isEqualTo(175);
    assertThat(MkdDescriptor.CARTESIAN_DIMS).isEqualTo(63);
    assertThat(MkdDescriptor.DIMS).isEqualTo(238);
    int count = 400;
    float[] patches = new float[count * MkdDescriptor.PIXELS];
    for (int n = 0; n < count; n++) {
      System.arraycopy(texture(n), 0, patches, n * MkdDescriptor.PIXELS, MkdDescriptor.PIXELS);
    }
    float[] d = MKD.describe(patches, count);
    assertThat(d).hasSize(count * 238);
    assertThat(norm(d, 0, 238)).isCloseTo(1, within(1e-5));
    MkdWhitening whitening = MkdWhitening.learn(d, count);
    float[] w = whitening.apply(d, count);
    assertThat(whitening.outDims()).isEqualTo(128);
    assertThat(w).hasSize(count * 128);
    assertThat(norm(w, 5 * 128, 128)).isCloseTo(1, within(1e-5));
    double[] eig = whitening.eigenvalues();
    assertThat(eig[0]).isGreaterThan(eig[127]);
  }

  @Test
  void vonMisesCoefficientsMatchThePapersPrecomputedOnes() {
    // The reference code's constants for (n = 3, kappa = 8) and (n = 1, kappa = 1).
    assertThat(new VonMisesEmbedding(3, 8).coefficients())
        .containsExactly(new double[] {0.14343168, 0.268285, 0.21979234, 0.15838885}, within(1e-7));
    assertThat(new VonMisesEmbedding(1, 1).coefficients())
        .containsExactly(new double[] {0.38214156, 0.48090413}, within(1e-7));
    // Its dot product is the truncated kernel b0 + sum b_j cos(j (a - b)).
    VonMisesEmbedding vm = new VonMisesEmbedding(2, 8);
    double[] a = vm.embed(0.3);
    double[] b = vm.embed(1.1);
    double dot = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
    }
    double[] c = vm.coefficients();
    assertThat(dot).isCloseTo(c[0] + c[1] * Math.cos(-0.8) + c[2] * Math.cos(-1.6), within(1e-12));
  }

  @Test
  void brightnessOffsetAndContrastScaleLeaveTheDescriptorUnchanged() {
    float[] patch = texture(7);
    float[] brighter = new float[patch.length];
    float[] contrast = new float[patch.length];
    for (int i = 0; i < patch.length; i++) {
      brighter[i] = patch[i] + 0.15f; // stays below 1: no clipping
      contrast[i] = patch[i] * 1.2f;
    }
    float[] d = MKD.describe(patch);
    assertThat(cosine(d, 0, MKD.describe(brighter), 0, 238)).isGreaterThanOrEqualTo(0.999);
    assertThat(cosine(d, 0, MKD.describe(contrast), 0, 238)).isGreaterThanOrEqualTo(0.999);
    // ...while another texture is far away, so the check can fail.
    assertThat(cosine(d, 0, MKD.describe(texture(8)), 0, 238)).isLessThan(0.99);
  }

  /**
   * Rotating the patch by alpha (about its centre) adds alpha to every gradient orientation theta
   * and to every pixel's polar angle phi: theta - phi and rho do not move, so the polar encoding's
   * only change is that each phi harmonic (cos j phi, sin j phi) turns by j alpha. A quarter turn
   * maps the pixel grid onto itself, and smoothing and central differences commute with it, so the
   * prediction holds to rounding.
   */
  @Test
  void aQuarterTurnRotatesThePhiHarmonicsOfThePolarPart() {
    float[] patch = texture(11);
    float[] turned = new float[patch.length];
    // (x, y) -> (-y, x), x right and y down: J[row][col] = I[31 - col][row].
    for (int r = 0; r < 32; r++) {
      for (int c = 0; c < 32; c++) {
        turned[r * 32 + c] = patch[(31 - c) * 32 + r];
      }
    }
    float[] d = MKD.describe(patch);
    float[] dt = MKD.describe(turned);
    float[] predicted = rotatePhiHarmonics(d, Math.PI / 2);
    assertThat(cosine(predicted, 0, dt, 0, 175)).isGreaterThan(0.99999);
    for (int i = 0; i < 175; i++) {
      assertThat(dt[i] / norm(dt, 0, 175)).isCloseTo(predicted[i] / norm(predicted, 0, 175), within(1e-4));
    }
    // The unrotated polar part differs, so the test can fail.
    assertThat(cosine(d, 0, dt, 0, 175)).isLessThan(0.95);
  }

  /** Applies phi -> phi + alpha to a polar part laid out [theta 7][phi 5][rho 5]. */
  static float[] rotatePhiHarmonics(float[] d, double alpha) {
    float[] out = new float[175];
    for (int i = 0; i < 7; i++) {
      for (int b = 0; b < 5; b++) {
        out[i * 25 + b] = d[i * 25 + b];
        for (int j = 1; j <= 2; j++) {
          double cos = d[i * 25 + j * 5 + b];
          double sin = d[i * 25 + (2 + j) * 5 + b];
          out[i * 25 + j * 5 + b] = (float) (Math.cos(j * alpha) * cos - Math.sin(j * alpha) * sin);
          out[i * 25 + (2 + j) * 5 + b] = (float) (Math.sin(j * alpha) * cos + Math.cos(j * alpha) * sin);
        }
      }
    }
    return out;
  }

  /**
   * A flat patch has zero gradients: every pixel's orientation is 0 (atan2(0, 0)) with the same
   * weight sqrt(sqrt(eps) + eps), so the sine dimensions are 0 and the cosine dimensions stand to
   * the constant one as sqrt(b_j / b_0), in both parts (relative orientation -phi for polar).
   */
  @Test
  void aFlatPatchGivesTheHandComputedCartesianRatios() {
    float[] flat = new float[MkdDescriptor.PIXELS];
    java.util.Arrays.fill(flat, 0.5f);
    float[] d = MKD.describe(flat);
    int cart = 175;
    double[] b = {0.14343168, 0.268285, 0.21979234, 0.15838885};
    for (int k = 0; k < 9; k++) {
      double base = d[cart + k];
      for (int j = 1; j <= 3; j++) {
        if (Math.abs(base) > 1e-6) {
          assertThat(d[cart + j * 9 + k] / base).isCloseTo(Math.sqrt(b[j] / b[0]), within(1e-4));
        }
        assertThat(d[cart + (3 + j) * 9 + k]).isCloseTo(0f, within(1e-6f));
      }
    }
    // Centre-symmetric grid: the sine-of-x and sine-of-y dimensions (k = a * 3 + b, a or b = 2)
    // cancel out; the constant one does not.
    assertThat(d[cart + 2]).isCloseTo(0f, within(1e-6f));
    assertThat(d[cart + 6]).isCloseTo(0f, within(1e-6f));
    assertThat(d[cart]).isGreaterThan(0.01f);
  }

  /** Parity with the formulas evaluated directly in double precision with atan2, cos and sin. */
  @Test
  void matchesADirectEvaluationOfTheFormulas() {
    for (long seed = 20; seed < 23; seed++) {
      float[] patch = texture(seed);
      float[] fast = MKD.describe(patch);
      double[] reference = ReferenceMkd.describe(patch);
      for (int i = 0; i < 238; i++) {
        assertThat((double) fast[i]).isCloseTo(reference[i], within(2e-5));
      }
    }
  }

  @Test
  void describesManyPatchesInOneBatchAsOneByOne() {
    float[] a = texture(1);
    float[] b = texture(2);
    float[] both = new float[2 * 1024];
    System.arraycopy(a, 0, both, 0, 1024);
    System.arraycopy(b, 0, both, 1024, 1024);
    float[] d = MKD.describe(both, 2);
    assertThat(java.util.Arrays.copyOfRange(d, 238, 476)).containsExactly(MKD.describe(b));
  }
}
