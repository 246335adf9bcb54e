package io.semisup.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AugmenterTest {

  private static final InputSpec SPEC =
      new InputSpec(4, 5, 1, new float[] {0.5f}, new float[] {0.25f});

  private static float[] ramp() {
    float[] x = new float[20];
    for (int i = 0; i < x.length; i++) {
      x[i] = i;
    }
    return x;
  }

  @Test
  void sameSeedSameOutputAndShapeKept() {
    Augmenter a = new Augmenter(true, 2);
    float[] x = ramp();
    Random r1 = new Random(7);
    Random r2 = new Random(7);
    for (int k = 0; k < 20; k++) {
      float[] o1 = a.apply(x, SPEC, r1);
      float[] o2 = a.apply(x, SPEC, r2);
      assertThat(o1).hasSize(20).containsExactly(o2);
    }
    assertThat(x).containsExactly(ramp()); // input untouched
  }

  @Test
  void noneIsIdentity() {
    float[] out = Augmenter.NONE.apply(ramp(), SPEC, new Random(1));
    assertThat(out).containsExactly(ramp());
    assertThat(Augmenter.NONE.isIdentity()).isTrue();
  }

  @Test
  void flipMirrorsRows() {
    Augmenter flipOnly = new Augmenter(true, 0);
    Random r = new Random(3);
    boolean sawFlip = false;
    for (int k = 0; k < 10; k++) {
      float[] o = flipOnly.apply(ramp(), SPEC, r);
      if (o[0] != 0f) {
        sawFlip = true;
        assertThat(o[0]).isEqualTo(4f);
        assertThat(o[5]).isEqualTo(9f);
        assertThat(o[19]).isEqualTo(15f);
      }
    }
    assertThat(sawFlip).isTrue();
  }

  @Test
  void shiftPadsWithNormalizedBlack() {
    Augmenter shift = new Augmenter(false, 1);
    float fill = (0 - 0.5f) / 0.25f;
    Random r = new Random(11);
    for (int k = 0; k < 30; k++) {
      float[] o = shift.apply(ramp(), SPEC, r);
      assertThat(o).hasSize(20);
      for (float v : o) {
        assertThat(v == fill || (v >= 0 && v < 20 && v == Math.rint(v))).isTrue();
      }
    }
  }

  @Test
  void eraseReplacesOneRectangleWithNoiseInPixelRange() {
    InputSpec spec = new InputSpec(28, 28, 1, new float[] {0.5f}, new float[] {0.25f});
    float[] x = new float[28 * 28];
    java.util.Arrays.fill(x, 100f); // outside the normalized range of any raw pixel
    Augmenter erase = new Augmenter(false, 0, 1.0);
    Random r = new Random(5);
    for (int k = 0; k < 50; k++) {
      float[] o = erase.apply(x, spec, r);
      int minY = 28;
      int maxY = -1;
      int minX = 28;
      int maxX = -1;
      int changed = 0;
      for (int i = 0; i < o.length; i++) {
        if (o[i] != 100f) {
          changed++;
          assertThat(o[i]).isBetween(-2f, 2f); // (u - 0.5) / 0.25 for u in [0, 1)
          minY = Math.min(minY, i / 28);
          maxY = Math.max(maxY, i / 28);
          minX = Math.min(minX, i % 28);
          maxX = Math.max(maxX, i % 28);
        }
      }
      int box = (maxY - minY + 1) * (maxX - minX + 1);
      assertThat(changed).isEqualTo(box); // one filled rectangle
      assertThat(box).isBetween((int) (0.02 * 784) - 2, (int) (0.4 * 784) + 30);
    }
  }

  @Test
  void eraseProbabilityZeroNeverErases() {
    Augmenter a = new Augmenter(false, 0, 0.0);
    assertThat(a.isIdentity()).isTrue();
    assertThat(new Augmenter(false, 0, 0.5).isIdentity()).isFalse();
  }
}
