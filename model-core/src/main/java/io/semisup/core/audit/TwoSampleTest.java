package io.semisup.core.audit;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;
import org.apache.commons.math3.stat.ranking.NaNStrategy;
import org.apache.commons.math3.stat.ranking.NaturalRanking;
import org.apache.commons.math3.stat.ranking.TiesStrategy;

/**
 * One-sided two-sample tests of "the suspect losses are stochastically smaller than the reference
 * losses", the signature of training-set membership (members have lower loss). One-sided because
 * a suspect set with higher loss than the reference (harder images) is no evidence of training on
 * it; a two-sided test would flag it and would halve the power where it matters.
 *
 * <ul>
 *   <li>Mann-Whitney U (Wilcoxon rank sum): ranks from commons-math3's {@link NaturalRanking}
 *       (ties averaged), the normal approximation with tie and continuity corrections. Sensitive
 *       to a shift of the whole distribution; the default.
 *   <li>Kolmogorov-Smirnov: the one-sided statistic D+ = max over x of (F_suspect(x) -
 *       F_reference(x)) and Smirnov's asymptotic p = exp(-2 D+^2 nm/(n+m)); commons-math3's
 *       {@link KolmogorovSmirnovTest} gives the two-sided p alongside. Sensitive to a change in
 *       one tail (a few memorised images).
 * </ul>
 */
public final class TwoSampleTest {

  /** Which test decides the verdict; the other is reported too. */
  public enum Kind {
    MANN_WHITNEY("mann-whitney"),
    KOLMOGOROV_SMIRNOV("ks");

    private final String key;

    Kind(String key) {
      this.key = key;
    }

    /** The name used in settings and JSON. */
    public String key() {
      return key;
    }

    public static List<String> keys() {
      return Arrays.stream(values()).map(Kind::key).toList();
    }

    public static Kind of(String key) {
      for (Kind k : values()) {
        if (k.key.equals(key)) {
          return k;
        }
      }
      throw new IllegalArgumentException("Cannot find test '" + key + "': valid are " + keys());
    }
  }

  /**
   * One test's outcome.
   *
   * @param statistic U of the suspect sample (Mann-Whitney) or D+ (Kolmogorov-Smirnov)
   * @param pValue one-sided p of "suspect losses smaller"
   * @param effect Mann-Whitney: P(suspect loss < reference loss) + half the ties (0.5 = no
   *     difference, the AUC of the loss as a membership classifier); KS: D+ itself
   * @param twoSidedP the two-sided p, for comparison with other tools
   */
  public record Result(Kind kind, double statistic, double pValue, double effect, double twoSidedP) {
    public String describe() {
      return String.format(Locale.ROOT, "%s statistic %.4g, effect %.4f, one-sided p %.3g",
          kind.key(), statistic, effect, pValue);
    }
  }

  private static final NormalDistribution STANDARD_NORMAL = new NormalDistribution(null, 0, 1);

  private TwoSampleTest() {}

  public static Result run(Kind kind, double[] suspect, double[] reference) {
    return kind == Kind.MANN_WHITNEY ? mannWhitney(suspect, reference) : kolmogorovSmirnov(suspect, reference);
  }

  /** Mann-Whitney U, one-sided: suspect losses smaller. */
  public static Result mannWhitney(double[] suspect, double[] reference) {
    check(suspect, reference);
    int n = suspect.length;
    int m = reference.length;
    double[] all = new double[n + m];
    System.arraycopy(suspect, 0, all, 0, n);
    System.arraycopy(reference, 0, all, n, m);
    double[] ranks = new NaturalRanking(NaNStrategy.FAILED, TiesStrategy.AVERAGE).rank(all);
    double rankSum = 0;
    for (int i = 0; i < n; i++) {
      rankSum += ranks[i];
    }
    double u = rankSum - n * (n + 1) / 2.0; // pairs where the suspect loss is the larger
    double nm = (double) n * m;
    double total = n + m;
    double[] sorted = all.clone();
    Arrays.sort(sorted);
    double ties = 0;
    for (int i = 0; i < sorted.length; ) {
      int j = i;
      while (j < sorted.length && sorted[j] == sorted[i]) {
        j++;
      }
      double t = j - i;
      ties += t * t * t - t;
      i = j;
    }
    double variance = nm / 12.0 * ((total + 1) - ties / (total * (total - 1)));
    double mean = nm / 2.0;
    double p;
    double twoSided;
    if (variance <= 0) {
      p = 1.0;
      twoSided = 1.0;
    } else {
      double sd = Math.sqrt(variance);
      // Lower tail with the continuity correction: small U = suspect losses small.
      p = STANDARD_NORMAL.cumulativeProbability((u - mean + 0.5) / sd);
      double z = (Math.abs(u - mean) - 0.5) / sd;
      twoSided = Math.min(1.0, 2 * STANDARD_NORMAL.cumulativeProbability(-Math.max(z, 0)));
    }
    double membership = 1.0 - u / nm; // P(suspect < reference) + ties / 2
    return new Result(Kind.MANN_WHITNEY, u, p, membership, twoSided);
  }

  /** Kolmogorov-Smirnov, one-sided: the suspect CDF above the reference CDF. */
  public static Result kolmogorovSmirnov(double[] suspect, double[] reference) {
    check(suspect, reference);
    double[] s = suspect.clone();
    double[] r = reference.clone();
    Arrays.sort(s);
    Arrays.sort(r);
    int n = s.length;
    int m = r.length;
    int i = 0;
    int j = 0;
    double dPlus = 0;
    while (i < n || j < m) {
      double x = i < n && (j >= m || s[i] <= r[j]) ? s[i] : r[j];
      while (i < n && s[i] == x) {
        i++;
      }
      while (j < m && r[j] == x) {
        j++;
      }
      dPlus = Math.max(dPlus, (double) i / n - (double) j / m);
    }
    double effective = (double) n * m / (n + m);
    double p = Math.min(1.0, Math.exp(-2 * dPlus * dPlus * effective));
    double twoSided = new KolmogorovSmirnovTest().kolmogorovSmirnovTest(suspect, reference);
    return new Result(Kind.KOLMOGOROV_SMIRNOV, dPlus, p, dPlus, twoSided);
  }

  private static void check(double[] suspect, double[] reference) {
    if (suspect.length < 2 || reference.length < 2) {
      throw new IllegalArgumentException("Cannot test " + suspect.length + " suspect against "
          + reference.length + " reference scores: need at least 2 of each");
    }
    for (double[] a : List.of(suspect, reference)) {
      for (double v : a) {
        if (Double.isNaN(v)) {
          throw new IllegalArgumentException("Cannot test membership scores containing NaN");
        }
      }
    }
  }
}
