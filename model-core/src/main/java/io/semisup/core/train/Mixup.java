package io.semisup.core.train;

import java.io.Serializable;
import java.util.Random;
import org.apache.commons.math3.distribution.BetaDistribution;
import org.apache.commons.math3.random.RandomGeneratorFactory;

/**
 * Mixup (Zhang et al., "mixup: Beyond Empirical Risk Minimization", 2018): each example of a
 * minibatch is blended with another example of the same minibatch, features and targets alike,
 * with one weight per minibatch drawn from Beta(alpha, alpha).
 *
 * <p>Why: the student learns from pseudo-labels of which about one in seven is wrong, and wrong
 * in systematic ways (shirt / T-shirt / pullover / coat). Mixup is the cheapest known guard
 * against memorising noisy labels (the paper's label-corruption experiments) and needs no second
 * forward pass. The weight is folded to {@code max(lambda, 1 - lambda)} so that each row keeps
 * its own example as the dominant one. It acts on packed minibatch arrays, so that the
 * single-JVM trainer and the Spark trainer mix identically (see {@link Minibatch}).
 *
 * @param alpha Beta(alpha, alpha) concentration; 0 means no mixing
 */
public record Mixup(double alpha) implements Serializable {

  /** Leaves minibatches unchanged. */
  public static final Mixup NONE = new Mixup(0);

  public Mixup {
    if (!(alpha >= 0)) {
      throw new IllegalArgumentException("Cannot use mixup alpha " + alpha + ": must be >= 0");
    }
  }

  public boolean isIdentity() {
    return alpha == 0;
  }

  /**
   * Mixes in place {@code b} rows of {@code features} (row length {@code featureSize}) and of
   * {@code targets} (row length {@code classes}) with a random partner row, drawing the weight
   * and then the pairing from {@code rnd}.
   *
   * @return the weight of each row's own example, in [0.5, 1] (1 when nothing was mixed)
   */
  public double apply(float[] features, int featureSize, float[] targets, int classes, int b, Random rnd) {
    if (isIdentity() || b < 2) {
      return 1.0;
    }
    double lambda =
        new BetaDistribution(RandomGeneratorFactory.createRandomGenerator(rnd), alpha, alpha).sample();
    lambda = Math.max(lambda, 1 - lambda);
    int[] partner = new int[b];
    Shuffle.permutation(partner, rnd);
    float[] f0 = features.clone();
    float[] t0 = targets.clone();
    float keep = (float) lambda;
    float other = 1 - keep;
    for (int i = 0; i < b; i++) {
      int p = partner[i];
      for (int k = 0; k < featureSize; k++) {
        features[i * featureSize + k] = keep * f0[i * featureSize + k] + other * f0[p * featureSize + k];
      }
      for (int c = 0; c < classes; c++) {
        targets[i * classes + c] = keep * t0[i * classes + c] + other * t0[p * classes + c];
      }
    }
    return lambda;
  }
}
