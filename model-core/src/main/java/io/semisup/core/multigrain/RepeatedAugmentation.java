package io.semisup.core.multigrain;

/**
 * Batches of repeated augmentations (Hoffer et al. 2019; MultiGrain): each of a batch's distinct
 * images appears {@code repeats} times in a row, every copy augmented on its own. The copies are
 * the margin loss's positives; the classifier sees them as ordinary examples.
 *
 * <p>An epoch keeps the trainer's cost: {@code ceil(n / repeats)} distinct images (the first of
 * the epoch's permutation), so as many batch rows, and steps, as an epoch without repeats. Over
 * the run every image is still drawn about once per epoch on average.
 */
public final class RepeatedAugmentation {

  private RepeatedAugmentation() {}

  /** Distinct images one epoch draws from {@code n}. */
  public static int imagesPerEpoch(int n, int repeats) {
    return (n + repeats - 1) / repeats;
  }

  /**
   * The example indices of one batch: {@code perm[start .. start + images)} each repeated
   * {@code repeats} times in a row.
   */
  public static int[] rows(int[] perm, int start, int images, int repeats) {
    int[] out = new int[images * repeats];
    for (int i = 0; i < images; i++) {
      for (int r = 0; r < repeats; r++) {
        out[i * repeats + r] = perm[start + i];
      }
    }
    return out;
  }

  /** The image group of each batch row of {@link #rows}: row / repeats. */
  public static int[] groups(int images, int repeats) {
    int[] out = new int[images * repeats];
    for (int k = 0; k < out.length; k++) {
      out[k] = k / repeats;
    }
    return out;
  }
}
