package io.semisup.core.image;

import java.io.Serializable;

/**
 * The test-time transform of FixRes and of ImageNet evaluation: resize so that the image's side
 * is {@code ratio} times the test resolution, then take the centre {@code size x size} (the
 * paper's ratio is 256/224 for photos), on a float tensor and with sub-pixel crop coordinates.
 * Ratio 1 is a plain resize. The pipeline's models carry their ratio in {@link
 * InputSpec#resizeRatio()}, which {@link Preprocessor} applies to the pixels it reads.
 *
 * <p>Why a ratio rather than a fixed resize side: FixRes moves the test resolution, and the crop
 * must keep covering the same share of the image at every resolution.
 */
public final class ResizeCenterCrop implements Serializable {

  private static final long serialVersionUID = 1L;

  private final int size;
  private final double ratio;

  /**
   * @param size test resolution (square)
   * @param ratio resized side over {@code size}, at least 1
   */
  public ResizeCenterCrop(int size, double ratio) {
    if (size <= 0) {
      throw new IllegalArgumentException("Cannot test at resolution " + size + ": must be positive");
    }
    if (!(ratio >= 1) || Double.isInfinite(ratio)) {
      throw new IllegalArgumentException(
          "Cannot resize by ratio " + ratio + " before the centre crop: must be >= 1 (e.g. 256/224)");
    }
    this.size = size;
    this.ratio = ratio;
  }

  public int size() {
    return size;
  }

  public double ratio() {
    return ratio;
  }

  /** The spec of the transformed images. */
  public InputSpec outputSpec(InputSpec source) {
    return source.withSize(size, size);
  }

  /** {@code chw} (an image under {@code source}) resized and centre-cropped. */
  public float[] apply(float[] chw, InputSpec source) {
    int side = (int) Math.round(size * ratio);
    int off = (side - size) / 2;
    double sy = (double) source.height() / side;
    double sx = (double) source.width() / side;
    return CropResampler.crop(chw, source, off * sy, off * sx, size * sy, size * sx, size, size);
  }

  @Override
  public String toString() {
    return "ResizeCenterCrop(" + size + ", ratio=" + ratio + ")";
  }
}
