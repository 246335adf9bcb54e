package io.semisup.core.mkd;

import boofcv.struct.image.GrayF32;

/**
 * Samples the 32x32 patch of a keypoint: a square of side {@code 2 * magnification * radius}
 * centred on the keypoint and turned by its orientation, read with bilinear interpolation (edge
 * pixels repeated outside the image). Sampling rotated by the keypoint's orientation is what makes
 * the descriptor rotation-invariant.
 *
 * <p>An optional homography maps the square before reading: the patch of the same scene point in
 * a second image whose geometry relative to the first is known, as the patch-set generator needs.
 */
public final class PatchSampler {

  /** Half the patch side in keypoint radii: SIFT-style radius to measurement region. */
  public static final double DEFAULT_MAGNIFICATION = 2.5;

  private final double magnification;

  public PatchSampler() {
    this(DEFAULT_MAGNIFICATION);
  }

  public PatchSampler(double magnification) {
    this.magnification = magnification;
  }

  /** Writes the keypoint's patch into {@code out[offset .. offset + 1024)}. */
  public void sample(GrayF32 image, Keypoint k, float[] out, int offset) {
    sample(image, k, null, out, offset);
  }

  /**
   * As {@link #sample(GrayF32, Keypoint, float[], int)}, the square's points first mapped by
   * {@code homography} (3x3, row-major; null for none).
   */
  public void sample(GrayF32 image, Keypoint k, double[] homography, float[] out, int offset) {
    int size = MkdDescriptor.PATCH;
    double step = 2 * magnification * k.radius() / size;
    double cos = Math.cos(k.orientation()) * step;
    double sin = Math.sin(k.orientation()) * step;
    double half = (size - 1) / 2.0;
    for (int row = 0; row < size; row++) {
      double v = row - half;
      for (int col = 0; col < size; col++) {
        double u = col - half;
        double x = k.x() + cos * u - sin * v;
        double y = k.y() + sin * u + cos * v;
        if (homography != null) {
          double[] h = homography;
          double w = h[6] * x + h[7] * y + h[8];
          double hx = (h[0] * x + h[1] * y + h[2]) / w;
          double hy = (h[3] * x + h[4] * y + h[5]) / w;
          x = hx;
          y = hy;
        }
        out[offset + row * size + col] = bilinear(image, x, y);
      }
    }
  }

  /** Whether the keypoint's square (mapped by the homography, if any) lies inside the image. */
  public boolean inside(GrayF32 image, Keypoint k, double[] homography) {
    double r = magnification * k.radius() * Math.sqrt(2);
    for (int corner = 0; corner < 4; corner++) {
      double angle = k.orientation() + Math.PI / 4 + corner * Math.PI / 2;
      double x = k.x() + r * Math.cos(angle);
      double y = k.y() + r * Math.sin(angle);
      if (homography != null) {
        double[] h = homography;
        double w = h[6] * x + h[7] * y + h[8];
        if (w <= 0) {
          return false;
        }
        double hx = (h[0] * x + h[1] * y + h[2]) / w;
        double hy = (h[3] * x + h[4] * y + h[5]) / w;
        x = hx;
        y = hy;
      }
      if (x < 0 || y < 0 || x > image.width - 1 || y > image.height - 1) {
        return false;
      }
    }
    return true;
  }

  /** Bilinear interpolation at (x, y), the point clamped into the image. */
  public static float bilinear(GrayF32 image, double x, double y) {
    int w = image.width;
    int h = image.height;
    x = Math.min(Math.max(x, 0), w - 1);
    y = Math.min(Math.max(y, 0), h - 1);
    int x0 = Math.min((int) x, w - 2 < 0 ? 0 : w - 2);
    int y0 = Math.min((int) y, h - 2 < 0 ? 0 : h - 2);
    int x1 = Math.min(x0 + 1, w - 1);
    int y1 = Math.min(y0 + 1, h - 1);
    double fx = x - x0;
    double fy = y - y0;
    float[] d = image.data;
    int s = image.stride;
    int o = image.startIndex;
    double top = d[o + y0 * s + x0] * (1 - fx) + d[o + y0 * s + x1] * fx;
    double bottom = d[o + y1 * s + x0] * (1 - fx) + d[o + y1 * s + x1] * fx;
    return (float) (top * (1 - fy) + bottom * fy);
  }
}
