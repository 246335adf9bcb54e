package io.semisup.core.image;

/**
 * The reduction a JPEG is decoded at: libjpeg(-turbo) can skip most of the inverse DCT and
 * produce the image at 1/2, 1/4 or 1/8 of its size, several times faster than decoding it whole
 * and shrinking it afterwards. The largest reduction that still gives at least the size wanted is
 * used, so the resize that follows only ever shrinks (or keeps) the picture, as it does from the
 * full image.
 */
public final class DctScale {

  /** The reductions libjpeg's scaled decoding offers through OpenCV, largest first. */
  private static final int[] REDUCTIONS = {8, 4, 2};

  private DctScale() {}

  /**
   * The largest of 8, 4, 2 (else 1) at which a {@code width x height} JPEG decodes to at least
   * {@code minWidth x minHeight}; libjpeg's scaled size is the ceiling of size / reduction.
   * A minimum of 0 on both sides asks for no particular size: 1 (full size).
   */
  public static int reduction(int width, int height, int minWidth, int minHeight) {
    if (minWidth <= 0 && minHeight <= 0) {
      return 1;
    }
    for (int r : REDUCTIONS) {
      if (scaled(width, r) >= minWidth && scaled(height, r) >= minHeight) {
        return r;
      }
    }
    return 1;
  }

  /** The side libjpeg produces for {@code side} at {@code reduction}. */
  public static int scaled(int side, int reduction) {
    return (side + reduction - 1) / reduction;
  }
}
