package io.semisup.jobs.bench;

import io.semisup.core.scoring.Scorer;
import java.util.Arrays;

/**
 * How often one model gives the same answer on two versions of the same images (pixels from two
 * decoders, or two precisions of one model): the share of images with the same top-1 class, and
 * with the same set of top-k classes.
 */
final class Agreement {

  private Agreement() {}

  /** Share of images whose top-1 class is the same on {@code a[i]} and {@code b[i]}. */
  static double top1(Scorer s, float[][] a, float[][] b, int batch) {
    return topSets(s, a, b, batch, 1);
  }

  /** Share of images whose set of top-{@code k} classes is the same on {@code a[i]} and {@code b[i]}. */
  static double topSets(Scorer s, float[][] a, float[][] b, int batch, int k) {
    if (a.length != b.length || a.length == 0) {
      throw new IllegalArgumentException("Cannot compare " + a.length + " with " + b.length + " images");
    }
    int same = 0;
    for (int from = 0; from < a.length; from += batch) {
      int to = Math.min(from + batch, a.length);
      float[][] pa = s.probabilities(Arrays.copyOfRange(a, from, to));
      float[][] pb = s.probabilities(Arrays.copyOfRange(b, from, to));
      for (int i = 0; i < pa.length; i++) {
        if (Arrays.equals(topK(pa[i], k), topK(pb[i], k))) {
          same++;
        }
      }
    }
    return same / (double) a.length;
  }

  /** The indices of the k largest values, sorted ascending (a set). */
  static int[] topK(float[] p, int k) {
    Integer[] idx = new Integer[p.length];
    for (int i = 0; i < p.length; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, (x, y) -> Float.compare(p[y], p[x]));
    int[] out = new int[Math.min(k, p.length)];
    for (int i = 0; i < out.length; i++) {
      out[i] = idx[i];
    }
    Arrays.sort(out);
    return out;
  }
}
