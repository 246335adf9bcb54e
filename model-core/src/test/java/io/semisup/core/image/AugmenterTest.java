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
}
