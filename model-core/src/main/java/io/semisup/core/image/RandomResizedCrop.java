package io.semisup.core.image;

import java.io.Serializable;
import java.util.Random;

/**
 * RandomResizedCrop (Szegedy et al. 2015, the standard ImageNet training augmentation): a random
 * box covering an area fraction drawn uniformly from {@code [minArea, 1]}, with an aspect ratio
 * (width / height) log-uniform in [3/4, 4/3], resampled to the training resolution.
 *
 * <p>Why: FixRes (Touvron et al. 2019, arXiv:1906.06423) shows that this crop makes objects look
 * larger in training than at test time (apparent size ratio E[sqrt(area)], 0.708 for the usual
 * {@code minArea} = 0.08), which is why the best test resolution lies above the training one.
 * The crop also lets a model train at a lower resolution than the data's.
 *
 * <p>Unlike torchvision, which retries a box that does not fit ten times and then falls back to a
 * centre crop, the aspect ratio is clipped to what fits ({@code [area, 1/area]}): the area
 * fraction is then exactly the one drawn, so its distribution is the analytic one. Draws from the
 * caller's {@link Random} in a fixed order (area, aspect, top, left), so a seed fixes the crop.
 */
public final class RandomResizedCrop implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Smallest aspect ratio (width / height); the largest is its inverse. */
  public static final double MIN_ASPECT = 3.0 / 4.0;

  private final double minArea;
  private final int outHeight;
  private final int outWidth;

  /**
   * @param minArea smallest area fraction of a crop, in (0, 1] (1: whole image, only resized)
   * @param outHeight training resolution
   * @param outWidth training resolution
   */
  public RandomResizedCrop(double minArea, int outHeight, int outWidth) {
    if (!(minArea > 0 && minArea <= 1)) {
      throw new IllegalArgumentException(
          "Cannot crop with minimum area fraction " + minArea + ": must be in (0, 1]");
    }
    if (outHeight <= 0 || outWidth <= 0) {
      throw new IllegalArgumentException(
          "Cannot crop to " + outHeight + "x" + outWidth + ": both must be positive");
    }
    this.minArea = minArea;
    this.outHeight = outHeight;
    this.outWidth = outWidth;
  }

  public double minArea() {
    return minArea;
  }

  /** The spec of the crops made from images of {@code source}. */
  public InputSpec outputSpec(InputSpec source) {
    return source.withSize(outHeight, outWidth);
  }

  /** A crop box in fractions of the image: top, left, height, width, all in [0, 1]. */
  public record Box(double top, double left, double height, double width) {

    /** Area fraction of the image the box covers. */
    public double area() {
      return height * width;
    }
  }

  /** Draws one box (area, then aspect, then top, then left). */
  public Box sample(Random rnd) {
    double area = minArea + rnd.nextDouble() * (1 - minArea);
    double logMin = Math.log(MIN_ASPECT);
    double aspect = Math.exp(logMin + rnd.nextDouble() * (-2 * logMin));
    aspect = Math.max(area, Math.min(1 / area, aspect)); // both sides fit, area unchanged
    double width = Math.min(1, Math.sqrt(area * aspect));
    double height = Math.min(1, area / width);
    double top = rnd.nextDouble() * (1 - height);
    double left = rnd.nextDouble() * (1 - width);
    return new Box(top, left, height, width);
  }

  /** A random crop of {@code chw} (an image under {@code source}) at the training resolution. */
  public float[] apply(float[] chw, InputSpec source, Random rnd) {
    Box b = sample(rnd);
    int h = source.height();
    int w = source.width();
    return CropResampler.crop(chw, source, b.top() * h, b.left() * w, b.height() * h,
        b.width() * w, outHeight, outWidth);
  }

  @Override
  public String toString() {
    return "RandomResizedCrop(minArea=" + minArea + ", " + outHeight + "x" + outWidth + ")";
  }
}
