package io.semisup.core.image;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The tensor a model expects: size, channel count and per-channel normalization.
 *
 * <p>Travels with a model in its metadata, so whoever scores or fine-tunes a model prepares
 * pixels exactly as its trainer did. Tensors are CHW float arrays of length {@link #size()},
 * values {@code (pixel / 255 - mean[c]) / std[c]}.
 *
 * <p>{@code resizeRatio} is the test transform (FixRes; ImageNet evaluation): the image is
 * resized to {@code resizeRatio} times the size, then the centre {@code height x width} is taken
 * ({@link Preprocessor} applies it). 1 is the plain resize; the paper's 256/224 = 1.143 for
 * photos. Training prepares its images at ratio 1 (its own augmentation decides the framing), and
 * the ratio is set on the spec saved with the model, so every scorer of the model frames the
 * images alike.
 */
public record InputSpec(
    int height, int width, int channels, float[] mean, float[] std, double resizeRatio)
    implements Serializable {

  /** A spec with the plain resize (ratio 1). */
  public InputSpec(int height, int width, int channels, float[] mean, float[] std) {
    this(height, width, channels, mean, std, 1.0);
  }

  public InputSpec {
    if (resizeRatio == 0) {
      // Absent from metadata written before the ratio existed: those models used the plain resize.
      resizeRatio = 1.0;
    }
    if (!(resizeRatio >= 1) || Double.isInfinite(resizeRatio)) {
      throw new IllegalArgumentException("Cannot resize by ratio " + resizeRatio
          + " before the centre crop: must be >= 1 (1 = plain resize; photos: 256/224)");
    }
    if (height <= 0 || width <= 0) {
      throw new IllegalArgumentException(
          "Cannot use input size " + height + "x" + width + ": both must be positive");
    }
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException(
          "Cannot use " + channels + " channels: only 1 (grey) or 3 (RGB) are supported");
    }
    if (mean.length != channels || std.length != channels) {
      throw new IllegalArgumentException(
          "Cannot use mean/std of lengths " + mean.length + "/" + std.length
              + ": need one value per channel (" + channels + ")");
    }
    for (float s : std) {
      if (!(s > 0)) {
        throw new IllegalArgumentException("Cannot use std " + s + ": must be > 0");
      }
    }
    mean = mean.clone();
    std = std.clone();
  }

  /** Number of floats in one image's tensor. */
  public int size() {
    return height * width * channels;
  }

  /** Same normalization at another resolution (FixRes: train low, test high). */
  public InputSpec withSize(int newHeight, int newWidth) {
    return new InputSpec(newHeight, newWidth, channels, mean, std, resizeRatio);
  }

  /** Same spec with another test transform ratio (1 = plain resize). */
  public InputSpec withResizeRatio(double ratio) {
    return new InputSpec(height, width, channels, mean, std, ratio);
  }

  /** Side lengths {height, width} the image is resized to before the centre crop. */
  public int[] resizedSides() {
    return new int[] {
      (int) Math.round(height * resizeRatio), (int) Math.round(width * resizeRatio)};
  }

  @Override
  public float[] mean() {
    return mean.clone();
  }

  @Override
  public float[] std() {
    return std.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InputSpec s
        && s.height == height
        && s.width == width
        && s.channels == channels
        && Double.compare(s.resizeRatio, resizeRatio) == 0
        && Arrays.equals(s.mean, mean)
        && Arrays.equals(s.std, std);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * height + width) + channels) + Arrays.hashCode(mean) * 7
        + Arrays.hashCode(std) + Double.hashCode(resizeRatio) * 13;
  }

  @Override
  public String toString() {
    return height + "x" + width + "x" + channels + " mean=" + Arrays.toString(mean) + " std="
        + Arrays.toString(std) + (resizeRatio == 1 ? "" : " resize-ratio=" + resizeRatio);
  }
}
