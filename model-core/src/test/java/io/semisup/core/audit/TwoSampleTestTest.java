package io.semisup.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;
import org.apache.commons.math3.stat.inference.MannWhitneyUTest;
import org.junit.jupiter.api.Test;

class TwoSampleTestTest {

  private static double[] normal(Random r, int n, double shift) {
    double[] a = new double[n];
    for (int i = 0; i < n; i++) {
      a[i] = r.nextGaussian() + shift;
    }
    return a;
  }

  @Test
  void sameDistributionIsNotSignificantAndPIsRoughlyUniform() {
    Random r = new Random(7);
    int trials = 400;
    int mwBelow = 0;
    int ksBelow = 0;
    int mwBelowHalf = 0;
    for (int t = 0; t < trials; t++) {
      double[] a = normal(r, 200, 0);
      double[] b = normal(r, 200, 0);
      double mw = TwoSampleTest.mannWhitney(a, b).pValue();
      double ks = TwoSampleTest.kolmogorovSmirnov(a, b).pValue();
      mwBelow += mw < 0.05 ? 1 : 0;
      ksBelow += ks < 0.05 ? 1 : 0;
      mwBelowHalf += mw < 0.5 ? 1 : 0;
    }
    // Under the null, P(p < 0.05) = 0.05 (binomial sd over 400 trials: 0.011); Smirnov's
    // asymptotic p is conservative, so KS may fall below.
    assertThat(mwBelow / (double) trials).isBetween(0.02, 0.09);
    assertThat(ksBelow / (double) trials).isBetween(0.005, 0.09);
    assertThat(mwBelowHalf / (double) trials).isBetween(0.42, 0.58);
  }

  @Test
  void lowerSuspectLossesAreSignificantHigherAreNot() {
    Random r = new Random(11);
    double[] reference = normal(r, 500, 0);
    double[] members = normal(r, 500, -0.3);
    double[] harder = normal(r, 500, 0.3);
    assertThat(TwoSampleTest.mannWhitney(members, reference).pValue()).isLessThan(1e-4);
    assertThat(TwoSampleTest.kolmogorovSmirnov(members, reference).pValue()).isLessThan(0.01);
    // One-sided: a harder suspect set is no evidence of membership.
    assertThat(TwoSampleTest.mannWhitney(harder, reference).pValue()).isGreaterThan(0.9);
    assertThat(TwoSampleTest.kolmogorovSmirnov(harder, reference).pValue()).isGreaterThan(0.5);
    assertThat(TwoSampleTest.mannWhitney(members, reference).effect()).isBetween(0.55, 0.7);
  }

  @Test
  void agreesWithCommonsMathTwoSidedTests() {
    Random r = new Random(3);
    double[] a = normal(r, 300, -0.1);
    double[] b = normal(r, 400, 0);
    TwoSampleTest.Result mw = TwoSampleTest.mannWhitney(a, b);
    // commons-math3 uses no continuity correction: agreement to the correction's size.
    assertThat(mw.twoSidedP()).isCloseTo(new MannWhitneyUTest().mannWhitneyUTest(a, b), within(0.01));
    double u = new MannWhitneyUTest().mannWhitneyU(a, b); // max(U1, U2)
    assertThat(Math.max(mw.statistic(), 300.0 * 400 - mw.statistic())).isCloseTo(u, within(1e-6));
    TwoSampleTest.Result ks = TwoSampleTest.kolmogorovSmirnov(a, b);
    assertThat(ks.statistic()).isLessThanOrEqualTo(new KolmogorovSmirnovTest().kolmogorovSmirnovStatistic(a, b) + 1e-12);
  }

  @Test
  void tiesAreHandled() {
    double[] a = {1, 1, 1, 2, 2};
    double[] b = {1, 1, 1, 2, 2};
    assertThat(TwoSampleTest.mannWhitney(a, b).pValue()).isGreaterThan(0.4);
    assertThat(TwoSampleTest.mannWhitney(a, b).effect()).isCloseTo(0.5, within(1e-12));
    assertThat(TwoSampleTest.kolmogorovSmirnov(a, b).statistic()).isEqualTo(0.0);
    double[] same = {3, 3, 3};
    assertThat(TwoSampleTest.mannWhitney(same, same).pValue()).isEqualTo(1.0);
  }

  @Test
  void verdictFollowsTheDecidingTestAtAlpha() {
    Random r = new Random(5);
    double[] reference = normal(r, 400, 0);
    MembershipAudit member = MembershipAudit.of("loss", normal(r, 400, -0.5), reference,
        TwoSampleTest.Kind.MANN_WHITNEY, 0.05);
    assertThat(member.member()).isTrue();
    assertThat(member.toMap()).containsEntry("verdict", "member").containsKey("ks_p");
    MembershipAudit none = MembershipAudit.of("loss", normal(r, 400, 0.5), reference,
        TwoSampleTest.Kind.KOLMOGOROV_SMIRNOV, 0.05);
    assertThat(none.member()).isFalse();
    assertThat(none.verdict()).isEqualTo("not-detected");
    assertThat(none.pValue()).isEqualTo(none.ks().pValue());
  }
}
