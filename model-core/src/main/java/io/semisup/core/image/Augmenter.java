package io.semisup.core.image;

import java.io.Serializable;
import java.util.Random;

/**
 * Seeded training-time augmentation on normalized CHW tensors: random horizontal flip and random
 * integer translation.
 *
 * <p>Why: with only 100 labels per class the teacher overfits quickly; flips and small shifts are
 * the cheap, label-preserving augmentations that help on Fashion-MNIST. It works on the
 * normalized tensor so it can sit between any preprocessor and the model, and takes the caller's
 * {@link Random} so that a seed fixes the whole run, also on Spark executors (hence
 * {@link Serializable}).
 *
 * <p>Padding: pixels shifted in from outside the image get the value that raw pixel 0 (black)
 * maps to, {@code (0 - mean[c]) / std[c]}, i.e. the Fashion-MNIST background, not tensor zero
 * (which would be a mid-grey after normalization).
 */
public final class Augmenter implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Returns its input unchanged (still a copy). */
  public static final Augmenter NONE = new Augmenter(false, 0);

  private final boolean horizontalFlip;
  private final int maxShift;

  /**
   * @param horizontalFlip flip left-right with probability 1/2
   * @param maxShift shift by dx, dy drawn uniformly from [-maxShift, maxShift] pixels
   */
  public Augmenter(boolean horizontalFlip, int maxShift) {
    if (maxShift < 0) {
      throw new IllegalArgumentException("Cannot shift by " + maxShift + " pixels: must be >= 0");
    }
    this.horizontalFlip = horizontalFlip;
    this.maxShift = maxShift;
  }

  public boolean horizontalFlip() {
    return horizontalFlip;
  }

  public int maxShift() {
    return maxShift;
  }

  /** True when {@link #apply} never changes anything. */
  public boolean isIdentity() {
    return !horizontalFlip && maxShift == 0;
  }

  /**
   * A new augmented tensor; {@code chw} is not modified. Draws from {@code rnd} in a fixed order
   * (flip, then dx, then dy; nothing for disabled parts), so equal seeds give equal outputs.
   */
  public float[] apply(float[] chw, InputSpec spec, Random rnd) {
    int h = spec.height();
    int w = spec.width();
    int c = spec.channels();
    if (chw.length != spec.size()) {
      throw new IllegalArgumentException(
          "Cannot augment a tensor of " + chw.length + " floats with spec " + spec
              + " (expects " + spec.size() + ")");
    }
    boolean flip = horizontalFlip && rnd.nextBoolean();
    int dx = maxShift > 0 ? rnd.nextInt(2 * maxShift + 1) - maxShift : 0;
    int dy = maxShift > 0 ? rnd.nextInt(2 * maxShift + 1) - maxShift : 0;
    if (!flip && dx == 0 && dy == 0) {
      return chw.clone();
    }
    float[] mean = spec.mean();
    float[] std = spec.std();
    float[] out = new float[chw.length];
    for (int ch = 0; ch < c; ch++) {
      float fill = -mean[ch] / std[ch];
      int base = ch * h * w;
      for (int y = 0; y < h; y++) {
        int sy = y - dy;
        for (int x = 0; x < w; x++) {
          int sx = x - dx;
          float v;
          if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
            v = fill;
          } else {
            int srcX = flip ? w - 1 - sx : sx;
            v = chw[base + sy * w + srcX];
          }
          out[base + y * w + x] = v;
        }
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "Augmenter(flip=" + horizontalFlip + ", maxShift=" + maxShift + ")";
  }
}
