package io.semisup.core.image;

import java.io.Serializable;
import java.util.Random;

/**
 * Seeded training-time augmentation on normalized CHW tensors: random horizontal flip, random
 * integer translation and random erasing.
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
 *
 * <p>Random erasing (Zhong et al., "Random Erasing Data Augmentation", 2017) replaces a random
 * rectangle covering 2-40% of the image, aspect ratio 0.3-3.3, with uniform noise over the raw
 * pixel range: the noise a Noisy-Student-style student needs to generalise beyond its teacher.
 * {@link RandAugment}, when on, runs between the shift and the erasing.
 */
public final class Augmenter implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Returns its input unchanged (still a copy). */
  public static final Augmenter NONE = new Augmenter(false, 0);

  private static final double ERASE_MIN_AREA = 0.02;
  private static final double ERASE_MAX_AREA = 0.4;
  private static final double ERASE_MIN_ASPECT = 0.3;
  private static final int ERASE_TRIES = 10;

  private final boolean horizontalFlip;
  private final int maxShift;
  private final double eraseProbability;
  private final RandAugment randAugment;

  /**
   * @param horizontalFlip flip left-right with probability 1/2
   * @param maxShift shift by dx, dy drawn uniformly from [-maxShift, maxShift] pixels
   */
  public Augmenter(boolean horizontalFlip, int maxShift) {
    this(horizontalFlip, maxShift, 0.0);
  }

  /**
   * @param horizontalFlip flip left-right with probability 1/2
   * @param maxShift shift by dx, dy drawn uniformly from [-maxShift, maxShift] pixels
   * @param eraseProbability probability of erasing one random rectangle
   */
  public Augmenter(boolean horizontalFlip, int maxShift, double eraseProbability) {
    this(horizontalFlip, maxShift, eraseProbability, RandAugment.NONE);
  }

  /**
   * @param horizontalFlip flip left-right with probability 1/2
   * @param maxShift shift by dx, dy drawn uniformly from [-maxShift, maxShift] pixels
   * @param eraseProbability probability of erasing one random rectangle
   * @param randAugment operations applied after the shift ({@link RandAugment#NONE}: none)
   */
  public Augmenter(boolean horizontalFlip, int maxShift, double eraseProbability, RandAugment randAugment) {
    if (maxShift < 0) {
      throw new IllegalArgumentException("Cannot shift by " + maxShift + " pixels: must be >= 0");
    }
    if (!(eraseProbability >= 0 && eraseProbability <= 1)) {
      throw new IllegalArgumentException(
          "Cannot erase with probability " + eraseProbability + ": must be in [0, 1]");
    }
    this.horizontalFlip = horizontalFlip;
    this.maxShift = maxShift;
    this.eraseProbability = eraseProbability;
    this.randAugment = java.util.Objects.requireNonNull(randAugment, "randAugment");
  }

  public boolean horizontalFlip() {
    return horizontalFlip;
  }

  public int maxShift() {
    return maxShift;
  }

  public double eraseProbability() {
    return eraseProbability;
  }

  /** True when {@link #apply} never changes anything. */
  public boolean isIdentity() {
    return !horizontalFlip && maxShift == 0 && eraseProbability == 0 && randAugment.isIdentity();
  }

  /**
   * A new augmented tensor; {@code chw} is not modified. Draws from {@code rnd} in a fixed order
   * (flip, then dx, then dy, then RandAugment's, then erasing; nothing for disabled parts), so
   * equal seeds give equal outputs.
   */
  public float[] apply(float[] chw, InputSpec spec, Random rnd) {
    if (chw.length != spec.size()) {
      throw new IllegalArgumentException(
          "Cannot augment a tensor of " + chw.length + " floats with spec " + spec
              + " (expects " + spec.size() + ")");
    }
    boolean flip = horizontalFlip && rnd.nextBoolean();
    int dx = maxShift > 0 ? rnd.nextInt(2 * maxShift + 1) - maxShift : 0;
    int dy = maxShift > 0 ? rnd.nextInt(2 * maxShift + 1) - maxShift : 0;
    float[] out = flip || dx != 0 || dy != 0 ? flipAndShift(chw, spec, flip, dx, dy) : chw.clone();
    if (!randAugment.isIdentity()) {
      out = randAugment.apply(out, spec, rnd);
    }
    if (eraseProbability > 0 && rnd.nextDouble() < eraseProbability) {
      erase(out, spec, rnd);
    }
    return out;
  }

  private static float[] flipAndShift(float[] chw, InputSpec spec, boolean flip, int dx, int dy) {
    int h = spec.height();
    int w = spec.width();
    int c = spec.channels();
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

  /** Erases one rectangle in place (all channels), retrying shapes that do not fit. */
  private static void erase(float[] out, InputSpec spec, Random rnd) {
    int h = spec.height();
    int w = spec.width();
    for (int attempt = 0; attempt < ERASE_TRIES; attempt++) {
      double area = h * w * (ERASE_MIN_AREA + rnd.nextDouble() * (ERASE_MAX_AREA - ERASE_MIN_AREA));
      double logMin = Math.log(ERASE_MIN_ASPECT);
      double aspect = Math.exp(logMin + rnd.nextDouble() * (-2 * logMin));
      int eh = (int) Math.round(Math.sqrt(area * aspect));
      int ew = (int) Math.round(Math.sqrt(area / aspect));
      if (eh < 1 || ew < 1 || eh >= h || ew >= w) {
        continue;
      }
      int y0 = rnd.nextInt(h - eh + 1);
      int x0 = rnd.nextInt(w - ew + 1);
      float[] mean = spec.mean();
      float[] std = spec.std();
      for (int ch = 0; ch < spec.channels(); ch++) {
        int base = ch * h * w;
        for (int y = y0; y < y0 + eh; y++) {
          for (int x = x0; x < x0 + ew; x++) {
            out[base + y * w + x] = (rnd.nextFloat() - mean[ch]) / std[ch];
          }
        }
      }
      return;
    }
  }

  @Override
  public String toString() {
    return "Augmenter(flip=" + horizontalFlip + ", maxShift=" + maxShift + ", erase="
        + eraseProbability + (randAugment.isIdentity() ? "" : ", " + randAugment) + ")";
  }
}
