package io.semisup.core.audit;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The verdict of a Déjà Vu audit: were the suspect images in the model's training set? Both
 * tests run on the same membership scores; {@code decidedBy} gives the verdict at level {@code
 * alpha} ("member" when its one-sided p-value is below alpha), the other is reported alongside.
 *
 * @param method how the scores were obtained: {@code loss} (the model's own head) or {@code
 *     linear-head} (a head retrained on frozen pooled features, for a replaced or fine-tuned head)
 */
public record MembershipAudit(
    String method, int suspectImages, int referenceImages, double suspectMeanLoss,
    double referenceMeanLoss, TwoSampleTest.Result mannWhitney, TwoSampleTest.Result ks,
    TwoSampleTest.Kind decidedBy, double alpha) {

  /** Runs both tests on the scores and keeps what the verdict needs. */
  public static MembershipAudit of(String method, double[] suspectLoss, double[] referenceLoss,
      TwoSampleTest.Kind decidedBy, double alpha) {
    if (!(alpha > 0 && alpha < 1)) {
      throw new IllegalArgumentException("Cannot audit at level " + alpha + ": alpha must lie in (0, 1)");
    }
    return new MembershipAudit(method, suspectLoss.length, referenceLoss.length, mean(suspectLoss),
        mean(referenceLoss), TwoSampleTest.mannWhitney(suspectLoss, referenceLoss),
        TwoSampleTest.kolmogorovSmirnov(suspectLoss, referenceLoss), decidedBy, alpha);
  }

  /** The result of the deciding test. */
  public TwoSampleTest.Result decisive() {
    return decidedBy == TwoSampleTest.Kind.MANN_WHITNEY ? mannWhitney : ks;
  }

  public double pValue() {
    return decisive().pValue();
  }

  /** True when the suspect set looks trained on: the deciding test rejects at {@code alpha}. */
  public boolean member() {
    return pValue() < alpha;
  }

  public String verdict() {
    return member() ? "member" : "not-detected";
  }

  public String summary() {
    return String.format(Locale.ROOT,
        "%s (%s, %s p = %.3g at alpha %.3g): mean loss %.4f on %d suspect vs %.4f on %d reference images",
        verdict(), method, decidedBy.key(), pValue(), alpha, suspectMeanLoss, suspectImages,
        referenceMeanLoss, referenceImages);
  }

  /** The fields metrics.json and the report show (snake_case, JSON-ready). */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", method);
    m.put("verdict", verdict());
    m.put("member", member());
    m.put("alpha", alpha);
    m.put("test", decidedBy.key());
    m.put("p_value", pValue());
    m.put("statistic", decisive().statistic());
    m.put("suspect_images", suspectImages);
    m.put("reference_images", referenceImages);
    m.put("suspect_mean_loss", suspectMeanLoss);
    m.put("reference_mean_loss", referenceMeanLoss);
    m.put("mann_whitney_u", mannWhitney.statistic());
    m.put("mann_whitney_p", mannWhitney.pValue());
    m.put("membership_auc", mannWhitney.effect());
    m.put("ks_d_plus", ks.statistic());
    m.put("ks_p", ks.pValue());
    m.put("ks_two_sided_p", ks.twoSidedP());
    return m;
  }

  private static double mean(double[] a) {
    double s = 0;
    for (double v : a) {
      s += v;
    }
    return a.length == 0 ? Double.NaN : s / a.length;
  }
}
