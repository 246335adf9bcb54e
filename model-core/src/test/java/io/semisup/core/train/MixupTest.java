package io.semisup.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.image.Augmenter;
import io.semisup.core.image.InputSpec;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class MixupTest {

  private static final int B = 8;
  private static final int SIZE = 4;
  private static final int CLASSES = 3;

  /** Row i: features all equal to i, one-hot target of class i % 3. */
  private static float[] features() {
    float[] f = new float[B * SIZE];
    for (int i = 0; i < B; i++) {
      java.util.Arrays.fill(f, i * SIZE, (i + 1) * SIZE, i);
    }
    return f;
  }

  private static float[] targets() {
    float[] t = new float[B * CLASSES];
    for (int i = 0; i < B; i++) {
      t[i * CLASSES + i % CLASSES] = 1;
    }
    return t;
  }

  @Test
  void noneLeavesTheBatchAlone() {
    float[] f = features();
    float[] t = targets();
    assertThat(Mixup.NONE.apply(f, SIZE, t, CLASSES, B, new Random(3))).isEqualTo(1.0);
    assertThat(f).containsExactly(features());
    assertThat(t).containsExactly(targets());
  }

  @Test
  void blendsEachRowWithOnePartnerUsingOneWeightForFeaturesAndTargets() {
    float[] f = features();
    float[] t = targets();
    double lambda = new Mixup(1.0).apply(f, SIZE, t, CLASSES, B, new Random(7));
    assertThat(lambda).isBetween(0.5, 1.0);
    boolean mixedAny = false;
    for (int i = 0; i < B; i++) {
      // feature value = lambda * i + (1 - lambda) * p: recover the partner p from it.
      double p = (f[i * SIZE] - lambda * i) / (1 - lambda);
      int partner = (int) Math.round(p);
      assertThat(p).isCloseTo(partner, Offset.offset(1e-3));
      assertThat(partner).isBetween(0, B - 1);
      mixedAny |= partner != i;
      for (int k = 1; k < SIZE; k++) {
        assertThat(f[i * SIZE + k]).isEqualTo(f[i * SIZE]);
      }
      float[] expected = new float[CLASSES];
      expected[i % CLASSES] += (float) lambda;
      expected[partner % CLASSES] += (float) (1 - lambda);
      double sum = 0;
      for (int c = 0; c < CLASSES; c++) {
        assertThat(t[i * CLASSES + c]).isCloseTo(expected[c], Offset.offset(1e-5f));
        sum += t[i * CLASSES + c];
      }
      assertThat(sum).isCloseTo(1.0, Offset.offset(1e-5));
    }
    assertThat(mixedAny).isTrue();
  }

  @Test
  void sameSeedSameBatchAndAlphaSetsHowHardItMixes() {
    float[] a = features();
    float[] b = features();
    new Mixup(0.4).apply(a, SIZE, targets(), CLASSES, B, new Random(11));
    new Mixup(0.4).apply(b, SIZE, targets(), CLASSES, B, new Random(11));
    assertThat(a).containsExactly(b);
    // Small alpha: Beta mass near 0 and 1, so the own example dominates on average.
    double small = 0;
    double large = 0;
    Random rnd = new Random(5);
    for (int r = 0; r < 400; r++) {
      small += new Mixup(0.1).apply(features(), SIZE, targets(), CLASSES, B, rnd);
      large += new Mixup(4.0).apply(features(), SIZE, targets(), CLASSES, B, rnd);
    }
    assertThat(small / 400).isGreaterThan(0.85);
    assertThat(large / 400).isLessThan(0.7);
  }

  @Test
  void minibatchMixesAfterSmoothingSoTargetRowsStayDistributions() {
    float[][] x = new float[B][];
    int[] y = new int[B];
    for (int i = 0; i < B; i++) {
      x[i] = new float[] {i, i, i, i};
      y[i] = i % CLASSES;
    }
    InputSpec spec = new InputSpec(2, 2, 1, new float[] {0f}, new float[] {1f});
    INDArray[] plain = Minibatch.pack(x, y, spec, CLASSES, Augmenter.NONE, 0.1, new Random(2));
    INDArray[] mixed = Minibatch.pack(x, y, spec, CLASSES, Augmenter.NONE, 0.1, new Mixup(1.0), new Random(2));
    assertThat(mixed[0].equals(plain[0])).isFalse();
    for (float[] row : mixed[1].toFloatMatrix()) {
      double sum = 0;
      for (float v : row) {
        assertThat(v).isGreaterThanOrEqualTo(0.1f / CLASSES - 1e-6f);
        sum += v;
      }
      assertThat(sum).isCloseTo(1.0, Offset.offset(1e-5));
    }
  }

  @Test
  void rejectsNegativeAlpha() {
    assertThatThrownBy(() -> new Mixup(-0.1)).hasMessageContaining("alpha -0.1");
    assertThatThrownBy(() -> TrainingConfig.defaults().withMixup(-1)).hasMessageContaining("alpha -1");
  }
}
