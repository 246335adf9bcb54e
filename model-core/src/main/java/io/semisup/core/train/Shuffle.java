package io.semisup.core.train;

import java.util.Random;

/**
 * The seeded Fisher-Yates permutation shared by the trainer's epoch order, mixup's pairing and the
 * benchmarks' seeded splits.
 */
public final class Shuffle {

  private Shuffle() {}

  /** Fills {@code perm} with a uniformly random permutation of 0..perm.length-1 drawn from {@code rnd}. */
  public static void permutation(int[] perm, Random rnd) {
    for (int i = 0; i < perm.length; i++) {
      perm[i] = i;
    }
    for (int i = perm.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
  }

  /** A uniformly random permutation of 0..n-1 drawn from {@code rnd}. */
  public static int[] permutation(int n, Random rnd) {
    int[] perm = new int[n];
    permutation(perm, rnd);
    return perm;
  }
}
