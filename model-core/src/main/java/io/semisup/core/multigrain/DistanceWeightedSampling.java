package io.semisup.core.multigrain;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Distance-weighted negative sampling (Wu, Manmatha, Smola, Krähenbühl, "Sampling matters in deep
 * embedding learning", 2017), as MultiGrain uses it: for each anchor and each of its positives
 * (the other copies of the same image), one negative drawn with probability proportional to the
 * inverse of the density of pairwise distances of points uniform on the unit sphere in n
 * dimensions, {@code q(d) ∝ d^(n-2) (1 - d^2/4)^((n-3)/2)}.
 *
 * <p>Why: uniform negatives are almost all far away (no loss, no signal); the hardest ones give
 * noisy gradients. Weighting by {@code 1/q(d)} spreads the draws over all distances. Distances are
 * clipped below at {@link #CUTOFF} (otherwise the closest negative takes all the weight), and
 * negatives at or beyond {@link #NONZERO_LOSS_CUTOFF} get weight 0 (with margin 0.2 and beta near
 * 1.2 they give no loss); an anchor whose negatives all weigh 0 draws uniformly among them.
 */
public final class DistanceWeightedSampling {

  /** Lower clip of the distances the weights are computed from (Wu et al.: 0.5). */
  public static final double CUTOFF = 0.5;
  /** Negatives at this distance or farther are not drawn (Wu et al.: 1.4). */
  public static final double NONZERO_LOSS_CUTOFF = 1.4;

  /** One sampled triplet of batch rows: anchor, positive (same image), negative. */
  public record Triplet(int anchor, int positive, int negative) {}

  private DistanceWeightedSampling() {}

  /** Euclidean distance between unit rows {@code a} and {@code b}. */
  static double distance(double[] a, double[] b) {
    double s = 0;
    for (int k = 0; k < a.length; k++) {
      double t = a[k] - b[k];
      s += t * t;
    }
    return Math.sqrt(s);
  }

  /**
   * The unnormalised sampling weights of the candidates at distances {@code d} from one anchor in
   * dimension {@code dim}: {@code 1/q(max(d, CUTOFF))} scaled so the largest allowed is 1, 0 where
   * {@code allowed} is false or {@code d >= NONZERO_LOSS_CUTOFF}.
   */
  public static double[] weights(double[] d, boolean[] allowed, int dim) {
    double[] logW = new double[d.length];
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < d.length; j++) {
      if (!allowed[j] || d[j] >= NONZERO_LOSS_CUTOFF) {
        logW[j] = Double.NEGATIVE_INFINITY;
        continue;
      }
      double x = Math.max(d[j], CUTOFF);
      // log(1/q(x)) = -(n-2) log x - ((n-3)/2) log(1 - x^2/4); x < 1.4 keeps the second log finite.
      logW[j] = -(dim - 2.0) * Math.log(x) - ((dim - 3.0) / 2.0) * Math.log(1 - x * x / 4);
      max = Math.max(max, logW[j]);
    }
    double[] w = new double[d.length];
    if (max == Double.NEGATIVE_INFINITY) {
      return w;
    }
    for (int j = 0; j < d.length; j++) {
      w[j] = logW[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(logW[j] - max);
    }
    return w;
  }

  /**
   * Triplets of a batch of unit embeddings {@code u} (one row per batch row) whose rows with equal
   * {@code group} are copies of one image: every ordered pair of copies (anchor, positive), each
   * with one negative drawn from {@code rnd}. Anchors without a row of another group give none.
   */
  public static List<Triplet> sample(double[][] u, int[] group, Random rnd) {
    int b = u.length;
    int dim = u[0].length;
    List<Triplet> out = new ArrayList<>();
    double[] d = new double[b];
    boolean[] negative = new boolean[b];
    for (int a = 0; a < b; a++) {
      boolean anyNegative = false;
      for (int j = 0; j < b; j++) {
        negative[j] = group[j] != group[a];
        anyNegative |= negative[j];
        d[j] = negative[j] ? distance(u[a], u[j]) : 0;
      }
      if (!anyNegative) {
        continue;
      }
      double[] w = weights(d, negative, dim);
      double total = 0;
      for (double x : w) {
        total += x;
      }
      if (total == 0) {
        for (int j = 0; j < b; j++) {
          w[j] = negative[j] ? 1 : 0;
          total += w[j];
        }
      }
      for (int p = 0; p < b; p++) {
        if (p != a && group[p] == group[a]) {
          out.add(new Triplet(a, p, draw(w, total, rnd)));
        }
      }
    }
    return out;
  }

  private static int draw(double[] w, double total, Random rnd) {
    double r = rnd.nextDouble() * total;
    int last = -1;
    for (int j = 0; j < w.length; j++) {
      if (w[j] > 0) {
        last = j;
        r -= w[j];
        if (r < 0) {
          return j;
        }
      }
    }
    return last; // rounding left r >= 0 after the last positive weight
  }
}
