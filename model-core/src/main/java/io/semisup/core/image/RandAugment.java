package io.semisup.core.image;

import java.io.Serializable;
import java.util.List;
import java.util.Random;

/**
 * RandAugment (Cubuk et al., "RandAugment: Practical automated data augmentation with a reduced
 * search space", 2020): each image goes through {@code ops} operations drawn uniformly, with
 * replacement, from a fixed list, all at one global magnitude {@code m} in [0, 30].
 *
 * <p>Why: it is the input noise of Noisy Student (Xie et al. 2020), which trains the student on
 * strongly perturbed images so that it learns more than its un-noised teacher labelled. Two
 * numbers replace a searched policy, so the ablation can choose them on validation.
 *
 * <p>The operations and their ranges at {@code m = 30} follow torchvision's RandAugment, minus
 * Color (the saturation of a colour image; Fashion-MNIST is grey): identity; shear x or y up to
 * 0.3; translate x or y up to 150/331 of the side; rotate up to 30 degrees (signed ops take a
 * random sign); brightness, contrast and sharpness by a factor 1 +- 0.9; posterize to 8 - 4 bits;
 * solarize above 1 - m/30 of the range; autocontrast and equalize. They work on raw pixels in [0,
 * 1] (the tensor is de-normalized and re-normalized with its {@link InputSpec}); geometric ones
 * sample bilinearly and fill with black, the padding {@link Augmenter} uses for shifts.
 *
 * <p>Written here rather than taken from an image library: the ops run on one small float tensor
 * per image inside the training loop, where a round trip through a library image type would cost
 * more than the op itself.
 */
public final class RandAugment implements Serializable {

  private static final long serialVersionUID = 1L;

  /** The operations, in the order their index is drawn. */
  public static final List<String> OPS = List.of("identity", "shear-x", "shear-y", "translate-x",
      "translate-y", "rotate", "brightness", "contrast", "sharpness", "posterize", "solarize",
      "autocontrast", "equalize");

  /** The largest magnitude (the scale of the paper's M). */
  public static final int MAX_MAGNITUDE = 30;

  /** No operation: {@link #apply} returns its input. */
  public static final RandAugment NONE = new RandAugment(0, 0);

  private final int ops;
  private final int magnitude;

  /**
   * @param ops operations per image (0 = off)
   * @param magnitude strength of every operation, 0 to {@value #MAX_MAGNITUDE}
   */
  public RandAugment(int ops, int magnitude) {
    if (ops < 0) {
      throw new IllegalArgumentException("Cannot apply " + ops + " RandAugment operations: must be >= 0");
    }
    if (magnitude < 0 || magnitude > MAX_MAGNITUDE) {
      throw new IllegalArgumentException(
          "Cannot use RandAugment magnitude " + magnitude + ": must be in [0, " + MAX_MAGNITUDE + "]");
    }
    this.ops = ops;
    this.magnitude = magnitude;
  }

  public int ops() {
    return ops;
  }

  public int magnitude() {
    return magnitude;
  }

  public boolean isIdentity() {
    return ops == 0;
  }

  /**
   * A new tensor with {@link #ops} random operations applied in turn; {@code chw} is not
   * modified. Per operation it draws the op's index, then (for signed ops) its sign, so equal
   * seeds give equal outputs.
   */
  public float[] apply(float[] chw, InputSpec spec, Random rnd) {
    if (ops == 0) {
      return chw;
    }
    int c = spec.channels();
    int plane = spec.height() * spec.width();
    float[] raw = new float[chw.length];
    for (int ch = 0; ch < c; ch++) {
      float mean = spec.mean()[ch];
      float std = spec.std()[ch];
      for (int i = ch * plane; i < (ch + 1) * plane; i++) {
        raw[i] = chw[i] * std + mean;
      }
    }
    for (int k = 0; k < ops; k++) {
      raw = applyOne(OPS.get(rnd.nextInt(OPS.size())), raw, spec, rnd);
    }
    float[] out = new float[chw.length];
    for (int ch = 0; ch < c; ch++) {
      float mean = spec.mean()[ch];
      float std = spec.std()[ch];
      for (int i = ch * plane; i < (ch + 1) * plane; i++) {
        out[i] = (raw[i] - mean) / std;
      }
    }
    return out;
  }

  /** One named operation on raw pixels in [0, 1]; signed ops draw their sign from {@code rnd}. */
  float[] applyOne(String op, float[] raw, InputSpec spec, Random rnd) {
    double m = magnitude / (double) MAX_MAGNITUDE;
    int w = spec.width();
    int h = spec.height();
    return switch (op) {
      case "identity" -> raw;
      case "shear-x" -> affine(raw, spec, 1, signed(0.3 * m, rnd), 0, 0, 1, 0);
      case "shear-y" -> affine(raw, spec, 1, 0, 0, signed(0.3 * m, rnd), 1, 0);
      case "translate-x" -> affine(raw, spec, 1, 0, signed(150.0 / 331 * w * m, rnd), 0, 1, 0);
      case "translate-y" -> affine(raw, spec, 1, 0, 0, 0, 1, signed(150.0 / 331 * h * m, rnd));
      case "rotate" -> {
        double a = Math.toRadians(signed(30 * m, rnd));
        yield affine(raw, spec, Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a), 0);
      }
      case "brightness" -> blend(raw, new float[raw.length], 1 + signed(0.9 * m, rnd));
      case "contrast" -> blend(raw, greyMean(raw), 1 + signed(0.9 * m, rnd));
      case "sharpness" -> blend(raw, smoothed(raw, spec), 1 + signed(0.9 * m, rnd));
      case "posterize" -> posterize(raw, 8 - (int) Math.round(4 * m));
      case "solarize" -> solarize(raw, (float) (1 - m));
      case "autocontrast" -> autocontrast(raw, spec);
      case "equalize" -> equalize(raw, spec);
      default -> throw new IllegalArgumentException("Unknown RandAugment operation '" + op + "': known are " + OPS);
    };
  }

  private static double signed(double v, Random rnd) {
    return rnd.nextBoolean() ? v : -v;
  }

  /**
   * Output pixel (x, y), centred coordinates, samples the input at (a x + b y + tx, d x + e y +
   * ty): the inverse map, as PIL's {@code Image.transform} takes it.
   */
  private static float[] affine(float[] raw, InputSpec spec, double a, double b, double tx,
      double d, double e, double ty) {
    int w = spec.width();
    int h = spec.height();
    int plane = w * h;
    double cx = (w - 1) / 2.0;
    double cy = (h - 1) / 2.0;
    float[] out = new float[raw.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double sx = a * (x - cx) + b * (y - cy) + tx + cx;
        double sy = d * (x - cx) + e * (y - cy) + ty + cy;
        int x0 = (int) Math.floor(sx);
        int y0 = (int) Math.floor(sy);
        double fx = sx - x0;
        double fy = sy - y0;
        for (int ch = 0; ch < spec.channels(); ch++) {
          int base = ch * plane;
          double v = (1 - fx) * (1 - fy) * at(raw, base, w, h, x0, y0)
              + fx * (1 - fy) * at(raw, base, w, h, x0 + 1, y0)
              + (1 - fx) * fy * at(raw, base, w, h, x0, y0 + 1)
              + fx * fy * at(raw, base, w, h, x0 + 1, y0 + 1);
          out[base + y * w + x] = (float) v;
        }
      }
    }
    return out;
  }

  /** A pixel of one channel plane, black outside the image. */
  private static float at(float[] raw, int base, int w, int h, int x, int y) {
    return x < 0 || y < 0 || x >= w || y >= h ? 0f : raw[base + y * w + x];
  }

  /** {@code other + factor * (raw - other)}, clamped to [0, 1] (PIL's ImageEnhance). */
  private static float[] blend(float[] raw, float[] other, double factor) {
    float[] out = new float[raw.length];
    for (int i = 0; i < raw.length; i++) {
      out[i] = clamp((float) (other[i] + factor * (raw[i] - other[i])));
    }
    return out;
  }

  /** Every pixel set to the image's mean grey (the mean over channels and pixels). */
  private static float[] greyMean(float[] raw) {
    double sum = 0;
    for (float v : raw) {
      sum += v;
    }
    float[] out = new float[raw.length];
    java.util.Arrays.fill(out, (float) (sum / raw.length));
    return out;
  }

  /** PIL's SMOOTH filter (3x3, centre weight 5, others 1, over 13) inside; border pixels kept. */
  private static float[] smoothed(float[] raw, InputSpec spec) {
    int w = spec.width();
    int h = spec.height();
    int plane = w * h;
    float[] out = raw.clone();
    for (int ch = 0; ch < spec.channels(); ch++) {
      int base = ch * plane;
      for (int y = 1; y < h - 1; y++) {
        for (int x = 1; x < w - 1; x++) {
          float s = 0;
          for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
              s += raw[base + (y + dy) * w + x + dx];
            }
          }
          s += 4 * raw[base + y * w + x];
          out[base + y * w + x] = s / 13f;
        }
      }
    }
    return out;
  }

  private static float[] posterize(float[] raw, int bits) {
    int mask = ~((1 << (8 - bits)) - 1) & 0xFF;
    float[] out = new float[raw.length];
    for (int i = 0; i < raw.length; i++) {
      out[i] = (toByte(raw[i]) & mask) / 255f;
    }
    return out;
  }

  private static float[] solarize(float[] raw, float threshold) {
    float[] out = new float[raw.length];
    for (int i = 0; i < raw.length; i++) {
      out[i] = raw[i] >= threshold ? 1 - raw[i] : raw[i];
    }
    return out;
  }

  /** Each channel stretched so that its darkest pixel is 0 and its brightest 1. */
  private static float[] autocontrast(float[] raw, InputSpec spec) {
    int plane = spec.height() * spec.width();
    float[] out = raw.clone();
    for (int ch = 0; ch < spec.channels(); ch++) {
      float lo = Float.MAX_VALUE;
      float hi = -Float.MAX_VALUE;
      for (int i = ch * plane; i < (ch + 1) * plane; i++) {
        lo = Math.min(lo, raw[i]);
        hi = Math.max(hi, raw[i]);
      }
      if (hi > lo) {
        for (int i = ch * plane; i < (ch + 1) * plane; i++) {
          out[i] = (raw[i] - lo) / (hi - lo);
        }
      }
    }
    return out;
  }

  /** Each channel's 256-level histogram equalized (PIL's ImageOps.equalize). */
  private static float[] equalize(float[] raw, InputSpec spec) {
    int plane = spec.height() * spec.width();
    float[] out = raw.clone();
    for (int ch = 0; ch < spec.channels(); ch++) {
      int[] hist = new int[256];
      for (int i = ch * plane; i < (ch + 1) * plane; i++) {
        hist[toByte(raw[i])]++;
      }
      int last = 255;
      while (last > 0 && hist[last] == 0) {
        last--;
      }
      int step = (plane - hist[last]) / 255;
      if (step == 0) {
        continue;
      }
      int[] lut = new int[256];
      int n = step / 2;
      for (int v = 0; v < 256; v++) {
        lut[v] = Math.min(255, n / step);
        n += hist[v];
      }
      for (int i = ch * plane; i < (ch + 1) * plane; i++) {
        out[i] = lut[toByte(raw[i])] / 255f;
      }
    }
    return out;
  }

  private static int toByte(float v) {
    return Math.max(0, Math.min(255, Math.round(v * 255)));
  }

  private static float clamp(float v) {
    return Math.max(0f, Math.min(1f, v));
  }

  @Override
  public String toString() {
    return "RandAugment(ops=" + ops + ", magnitude=" + magnitude + ")";
  }
}
