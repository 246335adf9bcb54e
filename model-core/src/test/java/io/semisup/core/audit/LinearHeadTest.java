package io.semisup.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LinearHeadTest {

  @Test
  void separatesGaussianClassesAndGivesHeldOutImagesHigherLoss() {
    Random r = new Random(1);
    int classes = 3;
    int d = 8;
    double[][] centres = new double[classes][d];
    for (double[] c : centres) {
      for (int j = 0; j < d; j++) {
        c[j] = r.nextGaussian() * 1.5;
      }
    }
    float[][] x = new float[600][d];
    int[] y = new int[600];
    for (int i = 0; i < x.length; i++) {
      y[i] = i % classes;
      for (int j = 0; j < d; j++) {
        x[i][j] = (float) (centres[y[i]][j] + r.nextGaussian() + 100); // offset: standardization matters
      }
    }
    float[][] train = java.util.Arrays.copyOf(x, 300);
    int[] yTrain = java.util.Arrays.copyOf(y, 300);
    LinearHead head = LinearHead.fit(train, yTrain, classes, LinearHead.Options.defaults());
    int correct = 0;
    for (int i = 300; i < 600; i++) {
      float[] p = head.probabilities(x[i]);
      int best = 0;
      for (int c = 1; c < classes; c++) {
        best = p[c] > p[best] ? c : best;
      }
      correct += best == y[i] ? 1 : 0;
    }
    assertThat(correct / 300.0).isGreaterThan(0.9);
    // The head's own training rows have (slightly) lower loss than unseen rows: the effect the
    // linear-head audit measures on the backbone.
    double seen = mean(MembershipScores.losses(head.probabilities(train), yTrain));
    double unseen = mean(MembershipScores.losses(
        head.probabilities(java.util.Arrays.copyOfRange(x, 300, 600)), java.util.Arrays.copyOfRange(y, 300, 600)));
    assertThat(seen).isLessThan(unseen);
  }

  private static double mean(double[] a) {
    return java.util.Arrays.stream(a).average().orElseThrow();
  }
}
