package io.semisup.core.dedup;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Picks a similarity threshold on a calibration set of planted copies and clean images, and
 * measures recall and precision at a threshold. An item is flagged when its best similarity is
 * at least the threshold; a flagged item is a true positive when it is a planted copy whose best
 * match is its own source, a false positive otherwise (a clean image, or a copy matched to the
 * wrong source). Recall is true positives over planted copies.
 *
 * <p>Why on a separate calibration set: a threshold chosen on the copies it is then scored on
 * overstates recall; the benchmark plants two disjoint sets of copies.
 */
public final class Calibration {

  private Calibration() {}

  /** One searched item: its best similarity, whether it is a planted copy, and whether its best
   *  match is its source. */
  public record Item(float similarity, boolean planted, boolean rightSource) {}

  /** Recall and precision at one threshold. */
  public record Point(double threshold, double recall, double precision, int flagged) {}

  /** Recall and precision of {@code items} at {@code threshold}. */
  public static Point at(Item[] items, double threshold) {
    int planted = 0;
    int flagged = 0;
    int tp = 0;
    for (Item it : items) {
      planted += it.planted() ? 1 : 0;
      if (it.similarity() >= threshold) {
        flagged++;
        tp += it.planted() && it.rightSource() ? 1 : 0;
      }
    }
    return new Point(threshold, planted == 0 ? 0 : tp / (double) planted,
        flagged == 0 ? 1 : tp / (double) flagged, flagged);
  }

  /**
   * The threshold with the highest recall whose precision is at least {@code minPrecision}
   * (among the items' own similarities; the highest one wins ties in recall, leaving a margin).
   * Where no threshold reaches the precision, one above every similarity (nothing flagged).
   */
  public static Point pick(Item[] items, double minPrecision) {
    Item[] sorted = items.clone();
    Arrays.sort(sorted, Comparator.comparingDouble(Item::similarity).reversed());
    int planted = 0;
    for (Item it : items) {
      planted += it.planted() ? 1 : 0;
    }
    Point best = new Point(Math.nextUp(sorted.length == 0 ? 1f : sorted[0].similarity()), 0, 1, 0);
    int tp = 0;
    for (int i = 0; i < sorted.length; i++) {
      tp += sorted[i].planted() && sorted[i].rightSource() ? 1 : 0;
      boolean lastOfTies = i + 1 == sorted.length || sorted[i + 1].similarity() < sorted[i].similarity();
      if (!lastOfTies) {
        continue;
      }
      double precision = tp / (double) (i + 1);
      double recall = planted == 0 ? 0 : tp / (double) planted;
      if (precision >= minPrecision && recall > best.recall()) {
        best = new Point(sorted[i].similarity(), recall, precision, i + 1);
      }
    }
    return best;
  }
}
