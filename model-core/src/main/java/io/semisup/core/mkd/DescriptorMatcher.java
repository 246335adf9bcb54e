package io.semisup.core.mkd;

import java.util.ArrayList;
import java.util.List;

/**
 * Tentative correspondences between two sets of L2-normalised descriptors: mutual nearest
 * neighbours that also pass Lowe's ratio test (nearest distance below {@code ratio} times the
 * second nearest). Mutual checking drops many-to-one matches on repeated texture; the ratio test
 * drops ambiguous ones. Brute force: a few thousand descriptors per image, so exact search is cheap.
 */
public final class DescriptorMatcher {

  /** A correspondence: descriptor {@code a} of the first set, {@code b} of the second. */
  public record Match(int a, int b, double distance) {}

  private final double ratio;

  public DescriptorMatcher(double ratio) {
    this.ratio = ratio;
  }

  public List<Match> match(float[] a, int countA, float[] b, int countB, int dims) {
    int[] bestAB = new int[countA];
    double[] best = new double[countA];
    double[] second = new double[countA];
    int[] bestBA = new int[countB];
    double[] bestB = new double[countB];
    java.util.Arrays.fill(best, Double.MAX_VALUE);
    java.util.Arrays.fill(second, Double.MAX_VALUE);
    java.util.Arrays.fill(bestB, Double.MAX_VALUE);
    java.util.Arrays.fill(bestAB, -1);
    java.util.Arrays.fill(bestBA, -1);
    for (int i = 0; i < countA; i++) {
      int oa = i * dims;
      for (int j = 0; j < countB; j++) {
        int ob = j * dims;
        float dot = 0;
        for (int d = 0; d < dims; d++) {
          dot += a[oa + d] * b[ob + d];
        }
        double dist2 = Math.max(0, 2 - 2 * dot); // unit vectors: |a - b|^2 = 2 - 2 a.b
        if (dist2 < best[i]) {
          second[i] = best[i];
          best[i] = dist2;
          bestAB[i] = j;
        } else if (dist2 < second[i]) {
          second[i] = dist2;
        }
        if (dist2 < bestB[j]) {
          bestB[j] = dist2;
          bestBA[j] = i;
        }
      }
    }
    List<Match> out = new ArrayList<>();
    for (int i = 0; i < countA; i++) {
      int j = bestAB[i];
      if (j < 0 || bestBA[j] != i) {
        continue;
      }
      if (Math.sqrt(best[i]) < ratio * Math.sqrt(second[i])) {
        out.add(new Match(i, j, Math.sqrt(best[i])));
      }
    }
    return out;
  }
}
