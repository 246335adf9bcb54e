package io.semisup.core.multigrain;

import io.semisup.core.multigrain.DistanceWeightedSampling.Triplet;
import java.util.List;

/**
 * The margin loss of Wu et al. (2017) on L2-normalised embeddings, as MultiGrain trains it: for
 * each triplet, {@code max(0, d(a,p) - beta + alpha) + max(0, beta - d(a,n) + alpha)}, summed
 * and divided by the number of its terms that are non-zero (at least 1), with {@code beta} a
 * learnable boundary between positive and negative distances and {@code alpha} the margin.
 *
 * <p>Computed in double precision on the raw pooled features {@code z}: normalisation
 * {@code u = z/||z||} and its backward pass are part of the loss, so the gradient returned is the
 * one to feed the pooling layer. Hand-written because DL4J has no batch-coupled metric loss.
 */
public final class MarginLoss {

  /** Added to squared distances before the square root, so coinciding points have a gradient. */
  static final double EPS = 1e-8;

  /**
   * The loss and its gradients.
   *
   * @param loss the margin loss
   * @param gradZ dL/dz, one row per batch row
   * @param gradBeta dL/dbeta
   * @param activeTerms number of non-zero terms (the divisor)
   * @param triplets number of triplets
   */
  public record Result(double loss, double[][] gradZ, double gradBeta, int activeTerms, int triplets) {}

  private MarginLoss() {}

  /** Rows of {@code z} divided by their L2 norms (a zero row stays zero). */
  public static double[][] normalize(double[][] z) {
    double[][] u = new double[z.length][];
    for (int i = 0; i < z.length; i++) {
      double n = norm(z[i]);
      u[i] = new double[z[i].length];
      for (int k = 0; k < z[i].length; k++) {
        u[i][k] = n > 0 ? z[i][k] / n : 0;
      }
    }
    return u;
  }

  /** The loss of {@code triplets} over raw embeddings {@code z}, with its gradients. */
  public static Result compute(double[][] z, List<Triplet> triplets, double beta, double margin) {
    double[][] u = normalize(z);
    int b = z.length;
    int dim = z[0].length;
    double[][] gradU = new double[b][dim];
    double sum = 0;
    int active = 0;
    double gradBeta = 0;
    // First pass: the sum and the divisor; second: gradients scaled by 1/divisor.
    double[] dp = new double[triplets.size()];
    double[] dn = new double[triplets.size()];
    for (int t = 0; t < triplets.size(); t++) {
      Triplet tr = triplets.get(t);
      dp[t] = dist(u[tr.anchor()], u[tr.positive()]);
      dn[t] = dist(u[tr.anchor()], u[tr.negative()]);
      double pos = dp[t] - beta + margin;
      double neg = beta - dn[t] + margin;
      if (pos > 0) {
        sum += pos;
        active++;
      }
      if (neg > 0) {
        sum += neg;
        active++;
      }
    }
    double scale = 1.0 / Math.max(1, active);
    for (int t = 0; t < triplets.size(); t++) {
      Triplet tr = triplets.get(t);
      if (dp[t] - beta + margin > 0) {
        accumulate(gradU, u, tr.anchor(), tr.positive(), dp[t], scale);
        gradBeta -= scale;
      }
      if (beta - dn[t] + margin > 0) {
        accumulate(gradU, u, tr.anchor(), tr.negative(), dn[t], -scale);
        gradBeta += scale;
      }
    }
    double[][] gradZ = new double[b][dim];
    for (int i = 0; i < b; i++) {
      double n = norm(z[i]);
      if (n == 0) {
        continue;
      }
      double dot = 0;
      for (int k = 0; k < dim; k++) {
        dot += u[i][k] * gradU[i][k];
      }
      for (int k = 0; k < dim; k++) {
        gradZ[i][k] = (gradU[i][k] - u[i][k] * dot) / n;
      }
    }
    return new Result(sum * scale, gradZ, gradBeta, active, triplets.size());
  }

  /** Adds {@code s * d dist(u_i, u_j)} to rows i and j of {@code g}. */
  private static void accumulate(double[][] g, double[][] u, int i, int j, double d, double s) {
    for (int k = 0; k < u[i].length; k++) {
      double v = s * (u[i][k] - u[j][k]) / d;
      g[i][k] += v;
      g[j][k] -= v;
    }
  }

  static double dist(double[] a, double[] b) {
    double s = EPS;
    for (int k = 0; k < a.length; k++) {
      double t = a[k] - b[k];
      s += t * t;
    }
    return Math.sqrt(s);
  }

  private static double norm(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    return Math.sqrt(s);
  }
}
