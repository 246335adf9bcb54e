package io.semisup.core.mkd;

/**
 * The explicit feature map of a von Mises kernel on an angle: {@code 2n + 1} numbers whose dot
 * product approximates {@code k(a - b) = (exp(kappa cos(a - b)) - exp(-kappa)) / (2 sinh kappa)}.
 *
 * <p>The kernel's Fourier series is {@code b0 + sum_{j=1..n} b_j cos(j (a - b))} with
 * {@code b0 = (I0(kappa) - exp(-kappa)) / (2 sinh kappa)} and {@code b_j = 2 I_j(kappa) / (2 sinh
 * kappa)} (modified Bessel functions of the first kind), so the map
 * {@code [sqrt(b0), sqrt(b_j) cos(j a) ..., sqrt(b_j) sin(j a) ...]} reproduces the truncated
 * kernel exactly. MKD uses it for gradient orientations (n = 3, kappa = 8: 7 dimensions), for
 * polar positions (n = 2, kappa = 8: 5 per coordinate) and Cartesian positions (n = 1, kappa = 1: 3
 * per coordinate). Layout, as in the paper's reference code: the constant first, then the n cosines,
 * then the n sines.
 */
public final class VonMisesEmbedding {

  private final int n;
  private final double[] coefficients;
  private final double[] weights;

  public VonMisesEmbedding(int n, double kappa) {
    if (n < 0 || kappa <= 0) {
      throw new IllegalArgumentException(
          "Cannot build a von Mises embedding: n = " + n + ", kappa = " + kappa
              + " (need n >= 0 and kappa > 0).");
    }
    this.n = n;
    this.coefficients = new double[n + 1];
    double norm = 2 * Math.sinh(kappa);
    coefficients[0] = (besselI(0, kappa) - Math.exp(-kappa)) / norm;
    for (int j = 1; j <= n; j++) {
      coefficients[j] = 2 * besselI(j, kappa) / norm;
    }
    this.weights = new double[2 * n + 1];
    weights[0] = Math.sqrt(coefficients[0]);
    for (int j = 1; j <= n; j++) {
      weights[j] = Math.sqrt(coefficients[j]);
      weights[n + j] = Math.sqrt(coefficients[j]);
    }
  }

  /** Number of dimensions, {@code 2n + 1}. */
  public int dims() {
    return 2 * n + 1;
  }

  /** The Fourier coefficients {@code b0..bn} of the kernel. */
  public double[] coefficients() {
    return coefficients.clone();
  }

  /** The weight of each output dimension (square roots of the coefficients, in output order). */
  public double[] weights() {
    return weights.clone();
  }

  /** The embedding of one angle (radians). */
  public double[] embed(double angle) {
    double[] out = new double[dims()];
    out[0] = weights[0];
    for (int j = 1; j <= n; j++) {
      out[j] = weights[j] * Math.cos(j * angle);
      out[n + j] = weights[n + j] * Math.sin(j * angle);
    }
    return out;
  }

  /**
   * Modified Bessel function of the first kind, integer order, by its power series (converges for
   * every argument; MKD's kappa is at most 8, where 60 terms are far more than enough).
   */
  static double besselI(int order, double x) {
    double half = x / 2;
    double term = 1;
    for (int k = 1; k <= order; k++) {
      term *= half / k;
    }
    double sum = term;
    for (int k = 1; k < 200; k++) {
      term *= half * half / (k * (double) (k + order));
      sum += term;
      if (term < sum * 1e-17) {
        break;
      }
    }
    return sum;
  }
}
