package io.semisup.core.selection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ScoreHistogramTest {

  /** Softmax-like: most mass near 1 or near 0, with exact 0.0/1.0 and repeated values. */
  private static float skewedScore(Random rnd) {
    switch (rnd.nextInt(8)) {
      case 0:
        return 1f;
      case 1:
        return 0f;
      case 2:
        return 0.999f; // many exact ties
      case 3:
        return Math.nextDown(1f);
      case 4:
        return (float) (1 - Math.pow(10, -7 * rnd.nextDouble()));
      case 5:
        return (float) Math.pow(rnd.nextDouble(), 8);
      default:
        return rnd.nextFloat();
    }
  }

  private static float kthLargest(float[] scores, int k) {
    float[] s = scores.clone();
    Arrays.sort(s);
    return s[s.length - k];
  }

  @Test
  void globalThresholdKeepsAtLeastNAndIsTheTightestEdge() {
    Random rnd = new Random(2);
    for (int trial = 0; trial < 200; trial++) {
      int numClasses = 1 + rnd.nextInt(4);
      int bins = 2 + rnd.nextInt(rnd.nextBoolean() ? 20 : 2000);
      ScoreHistogram h = new ScoreHistogram(numClasses, bins);
      float[] all = new float[1 + rnd.nextInt(400)];
      for (int i = 0; i < all.length; i++) {
        all[i] = skewedScore(rnd);
        h.add(rnd.nextInt(numClasses), all[i]);
      }
      long n = 1 + rnd.nextInt(all.length + 20);
      float t = h.globalThreshold(n);
      long kept = 0;
      for (float s : all) {
        kept += s >= t ? 1 : 0;
      }
      if (n > all.length) {
        assertThat(t).isZero();
        continue;
      }
      // Every member of the global top n passes, and the next bin edge up would keep fewer.
      assertThat(kthLargest(all, (int) n)).isGreaterThanOrEqualTo(t);
      assertThat(kept).isGreaterThanOrEqualTo(n);
      int b = h.bin(t);
      if (b + 1 < bins) {
        long keptAbove = 0;
        for (float s : all) {
          keptAbove += s >= h.edge(b + 1) ? 1 : 0;
        }
        assertThat(keptAbove).isLessThan(n);
      }
    }
    assertThatThrownBy(() -> new ScoreHistogram(2, 8).globalThreshold(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("n=0");
  }

  @Test
  void thresholdsNeverDropTrueTopK() {
    Random rnd = new Random(1);
    for (int trial = 0; trial < 200; trial++) {
      int numClasses = 1 + rnd.nextInt(3);
      int bins = 2 + rnd.nextInt(rnd.nextBoolean() ? 20 : 2000);
      ScoreHistogram a = new ScoreHistogram(numClasses, bins);
      ScoreHistogram b = new ScoreHistogram(numClasses, bins);
      float[][] perClass = new float[numClasses][];
      for (int c = 0; c < numClasses; c++) {
        perClass[c] = new float[rnd.nextInt(300)];
        for (int i = 0; i < perClass[c].length; i++) {
          perClass[c][i] = skewedScore(rnd);
          (rnd.nextBoolean() ? a : b).add(c, perClass[c][i]);
        }
      }
      ScoreHistogram h = a.merge(b);
      int k = 1 + rnd.nextInt(50);
      float[] thr = h.thresholds(k);
      long expectedKept = 0;
      for (int c = 0; c < numClasses; c++) {
        float[] s = perClass[c];
        assertThat(h.count(c)).isEqualTo(s.length);
        if (s.length < k) {
          assertThat(thr[c]).isEqualTo(0f);
        } else {
          // Every member of the true top-k scores >= the k-th largest score.
          assertThat(kthLargest(s, k)).isGreaterThanOrEqualTo(thr[c]);
        }
        long kept = 0;
        for (float x : s) {
          kept += x >= thr[c] ? 1 : 0;
        }
        assertThat(kept).isGreaterThanOrEqualTo(Math.min(k, s.length));
        expectedKept += kept;
      }
      assertThat(h.keptAbove(thr)).isEqualTo(expectedKept);
    }
  }

  @Test
  void scoreExactlyOnEdgePassesThreshold() {
    ScoreHistogram h = new ScoreHistogram(1, 100);
    for (int b = 1; b < h.bins(); b++) {
      float edge = h.edge(b);
      assertThat(h.bin(edge)).isGreaterThanOrEqualTo(b);
      assertThat(h.bin(Math.nextDown(edge))).isLessThan(b);
    }
    float edge = h.edge(60);
    h.add(0, edge);
    float[] thr = h.thresholds(1);
    assertThat(thr[0]).isEqualTo(edge);
    assertThat(edge >= thr[0]).isTrue();
    assertThat(h.keptAbove(thr)).isEqualTo(1);
  }

  @Test
  void keepsNotManyMoreThanKWhenScoresAreSpread() {
    Random rnd = new Random(3);
    ScoreHistogram h = new ScoreHistogram(2, 1000);
    int n = 100_000;
    for (int i = 0; i < n; i++) {
      // Spread in s: uniform; spread near 1: uniform in log10(1 - s).
      h.add(0, rnd.nextFloat());
      h.add(1, (float) (1 - Math.pow(10, -6 * rnd.nextDouble())));
    }
    int k = 1000;
    float[] thr = h.thresholds(k);
    for (int c = 0; c < 2; c++) {
      long kept = h.keptAbove(new float[] {c == 0 ? thr[0] : 2f, c == 1 ? thr[1] : 2f});
      assertThat(kept).as("class %d", c).isBetween((long) k, (long) (k * 1.2));
    }
  }

  @Test
  void fewerThanKCandidatesKeepsAll() {
    ScoreHistogram h = new ScoreHistogram(2, 10);
    h.add(0, 0.9f);
    h.add(0, 0.0f);
    assertThat(h.thresholds(5)).containsExactly(0f, 0f);
    assertThat(h.keptAbove(h.thresholds(5))).isEqualTo(2);
  }

  @Test
  void rejectsBadInput() {
    ScoreHistogram h = new ScoreHistogram(2, 10);
    assertThatThrownBy(() -> h.add(0, Float.NaN)).hasMessageContaining("[0, 1]");
    assertThatThrownBy(() -> h.add(0, 1.5f)).hasMessageContaining("[0, 1]");
    assertThatThrownBy(() -> h.add(2, 0.5f)).hasMessageContaining("Cannot use class 2");
    assertThatThrownBy(() -> h.merge(new ScoreHistogram(2, 11))).hasMessageContaining("11");
  }

  @Test
  void survivesJavaSerialization() throws Exception {
    ScoreHistogram h = new ScoreHistogram(2, 50);
    h.add(1, 0.97f);
    ScoreHistogram back = roundTrip(h);
    back.add(1, 0.5f);
    assertThat(back.count(1)).isEqualTo(2);
    assertThat(back.thresholds(1)).containsExactly(h.thresholds(1));
  }

  @Test
  void serializesOnlyNonEmptyCells() throws Exception {
    Random rnd = new Random(5);
    ScoreHistogram h = new ScoreHistogram(1000, 4096);
    for (int i = 0; i < 100_000; i++) {
      h.add(rnd.nextInt(1000), skewedScore(rnd));
    }
    h.add(3, 1f);
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(h);
    }
    // Dense would be 32 MB; at most 100,001 cells of a few bytes each.
    assertThat(bytes.size()).isLessThan(600_000);
    ScoreHistogram back = roundTrip(h);
    for (int c = 0; c < 1000; c++) {
      for (int b = 0; b < 4096; b++) {
        assertThat(back.count(c, b)).isEqualTo(h.count(c, b));
      }
    }
    assertThat(back.thresholds(7)).containsExactly(h.thresholds(7));
    ScoreHistogram empty = roundTrip(new ScoreHistogram(2, 10));
    assertThat(empty.count(0) + empty.count(1)).isZero();
  }

  @SuppressWarnings("unchecked")
  static <T> T roundTrip(T o) throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
        new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }
}
