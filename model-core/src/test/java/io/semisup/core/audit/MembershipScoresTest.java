package io.semisup.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class MembershipScoresTest {

  @Test
  void lossIsMinusLogOfTheTrueClassProbability() {
    float[] p = {0.7f, 0.2f, 0.1f, 0f};
    assertThat(MembershipScores.loss(p, 0)).isCloseTo(-Math.log(0.7), within(1e-6));
    assertThat(MembershipScores.loss(p, 2)).isCloseTo(-Math.log(0.1), within(1e-6));
    assertThat(MembershipScores.loss(p, 3)).isCloseTo(-Math.log(MembershipScores.MIN_PROBABILITY), within(1e-6));
    assertThatThrownBy(() -> MembershipScores.loss(p, 4)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void topPRowsGiveTheExactLossOrALowerBound() {
    int[] classes = {4, 1, 7};
    float[] probs = {0.6f, 0.3f, 0.05f};
    assertThat(MembershipScores.lossFromTopP(classes, probs, 1)).isCloseTo(-Math.log(0.3), within(1e-6));
    // Label 2 not kept: its probability is at most min(0.05, 1 - 0.95) = 0.05.
    assertThat(MembershipScores.lossFromTopP(classes, probs, 2)).isCloseTo(-Math.log(0.05), within(1e-5));
  }
}
