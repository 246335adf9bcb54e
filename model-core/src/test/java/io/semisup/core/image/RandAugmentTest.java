package io.semisup.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** RandAugment's operations on raw pixels, its determinism and how Augmenter runs it. */
class RandAugmentTest {

  /** 8x8 grey, normalized with mean 0.5 and std 0.25 (raw = x * 0.25 + 0.5). */
  private static final InputSpec SPEC = new InputSpec(8, 8, 1, new float[] {0.5f}, new float[] {0.25f});

  /** Raw pixels: a bright 2x4 bar on black, at rows 3-4, columns 2-5. */
  private static float[] bar() {
    float[] raw = new float[64];
    for (int y = 3; y <= 4; y++) {
      for (int x = 2; x <= 5; x++) {
        raw[y * 8 + x] = 0.8f;
      }
    }
    return raw;
  }

  private static float[] gradient() {
    float[] raw = new float[64];
    for (int i = 0; i < 64; i++) {
      raw[i] = 0.2f + 0.5f * i / 63f;
    }
    return raw;
  }

  private static float[] normalized(float[] raw) {
    float[] x = new float[raw.length];
    for (int i = 0; i < raw.length; i++) {
      x[i] = (raw[i] - 0.5f) / 0.25f;
    }
    return x;
  }

  @Test
  void offReturnsItsInputAndBadSettingsAreRefused() {
    float[] x = normalized(bar());
    assertThat(RandAugment.NONE.apply(x, SPEC, new Random(1))).isSameAs(x);
    assertThat(RandAugment.NONE.isIdentity()).isTrue();
    assertThatThrownBy(() -> new RandAugment(-1, 9)).hasMessageContaining("must be >= 0");
    assertThatThrownBy(() -> new RandAugment(2, 31)).hasMessageContaining("[0, 30]");
  }

  @Test
  void equalSeedsGiveEqualImagesAndTheInputIsKept() {
    RandAugment ra = new RandAugment(2, 15);
    float[] x = normalized(bar());
    float[] copy = x.clone();
    Random r1 = new Random(5);
    Random r2 = new Random(5);
    boolean changedOnce = false;
    for (int k = 0; k < 30; k++) {
      float[] a = ra.apply(x, SPEC, r1);
      assertThat(a).containsExactly(ra.apply(x, SPEC, r2));
      changedOnce |= !java.util.Arrays.equals(a, x);
    }
    assertThat(x).containsExactly(copy);
    assertThat(changedOnce).isTrue();
  }

  @Test
  void geometricOperationsMoveTheContentAndFillWithBlack() {
    RandAugment full = new RandAugment(1, 30);
    // Magnitude 0: every geometric op samples each pixel at its own place.
    RandAugment zero = new RandAugment(1, 0);
    for (String op : java.util.List.of("shear-x", "shear-y", "translate-x", "translate-y", "rotate")) {
      assertThat(zero.applyOne(op, bar(), SPEC, new Random(3))).as(op).containsExactly(bar());
    }
    // Translate x by 150/331 * 8 = 3.6 pixels: the bar's mass is kept or pushed out, never grows.
    float[] moved = full.applyOne("translate-x", bar(), SPEC, new Random(3));
    assertThat(sum(moved)).isLessThanOrEqualTo(sum(bar()) + 1e-4f);
    assertThat(moved).isNotEqualTo(bar());
    // Rotating a centred bar by 30 degrees keeps most of its mass inside and changes its rows.
    float[] rotated = full.applyOne("rotate", bar(), SPEC, new Random(3));
    assertThat(sum(rotated)).isCloseTo(sum(bar()), within(0.15f * sum(bar())));
    assertThat(rotated[0]).isZero(); // a corner far from the bar stays black
  }

  @Test
  void photometricOperationsFollowPil() {
    RandAugment full = new RandAugment(1, 30);
    float[] g = gradient();
    // Solarize at full magnitude: threshold 0, every pixel inverted.
    float[] sol = full.applyOne("solarize", g, SPEC, new Random(1));
    for (int i = 0; i < 64; i++) {
      assertThat(sol[i]).isCloseTo(1 - g[i], within(1e-6f));
    }
    // Posterize at full magnitude keeps 4 bits: every value a multiple of 16 / 255.
    for (float v : full.applyOne("posterize", g, SPEC, new Random(1))) {
      assertThat(Math.round(v * 255) % 16).isZero();
    }
    // Autocontrast stretches 0.2..0.7 to 0..1.
    float[] ac = full.applyOne("autocontrast", g, SPEC, new Random(1));
    assertThat(min(ac)).isCloseTo(0f, within(1e-6f));
    assertThat(max(ac)).isCloseTo(1f, within(1e-6f));
    // Equalize, as PIL's: fewer than 256 pixels below the top level leave the image as it is;
    // on a 32x32 gradient over 0.2..0.7 it spreads the levels over the whole range.
    assertThat(full.applyOne("equalize", g, SPEC, new Random(1))).containsExactly(g);
    InputSpec large = new InputSpec(32, 32, 1, new float[] {0.5f}, new float[] {0.25f});
    float[] g32 = new float[1024];
    for (int i = 0; i < g32.length; i++) {
      g32[i] = 0.2f + 0.5f * i / 1023f;
    }
    float[] eq = full.applyOne("equalize", g32, large, new Random(1));
    assertThat(min(eq)).isLessThan(0.05f);
    assertThat(max(eq)).isGreaterThan(0.9f);
    // Brightness by 1 +- 0.9: every pixel scaled by 1.9 or 0.1, clamped to 1.
    float[] br = full.applyOne("brightness", g, SPEC, new Random(1));
    float factor = br[0] / g[0];
    assertThat(factor).satisfiesAnyOf(f -> assertThat(f).isCloseTo(1.9f, within(1e-4f)),
        f -> assertThat(f).isCloseTo(0.1f, within(1e-4f)));
    // Contrast keeps the mean grey of the image.
    float[] ct = full.applyOne("contrast", g, SPEC, new Random(2));
    assertThat(sum(ct) / 64).isCloseTo(sum(g) / 64, within(0.02f));
    // Identity changes nothing.
    assertThat(full.applyOne("identity", g, SPEC, new Random(1))).containsExactly(g);
  }

  @Test
  void augmenterRunsItAfterTheShiftAndKeepsItsDrawsWhenOff() {
    float[] x = normalized(bar());
    // Off: Augmenter draws exactly what it drew before RandAugment existed.
    Augmenter old = new Augmenter(true, 2, 0.5);
    Augmenter off = new Augmenter(true, 2, 0.5, RandAugment.NONE);
    Random r1 = new Random(11);
    Random r2 = new Random(11);
    for (int k = 0; k < 20; k++) {
      assertThat(off.apply(x, SPEC, r2)).containsExactly(old.apply(x, SPEC, r1));
    }
    Augmenter on = new Augmenter(false, 0, 0, new RandAugment(2, 9));
    assertThat(on.isIdentity()).isFalse();
    assertThat(on.toString()).contains("RandAugment(ops=2, magnitude=9)");
    assertThat(on.apply(x, SPEC, new Random(4))).hasSize(64);
  }

  private static float sum(float[] a) {
    float s = 0;
    for (float v : a) {
      s += v;
    }
    return s;
  }

  private static float min(float[] a) {
    float m = Float.MAX_VALUE;
    for (float v : a) {
      m = Math.min(m, v);
    }
    return m;
  }

  private static float max(float[] a) {
    float m = -Float.MAX_VALUE;
    for (float v : a) {
      m = Math.max(m, v);
    }
    return m;
  }
}
