package io.semisup.core.image;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The tensor a model expects: size, channel count and per-channel normalization.
 *
 * <p>Travels with a model in its metadata, so whoever scores or fine-tunes a model prepares
 * pixels exactly as its trainer did. Tensors are CHW float arrays of length {@link #size()},
 * values {@code (pixel / 255 - mean[c]) / std[c]}.
 */
public record InputSpec(int height, int width, int channels, float[] mean, float[] std)
    implements Serializable {

  public InputSpec {
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
    return new InputSpec(newHeight, newWidth, channels, mean, std);
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
        && Arrays.equals(s.mean, mean)
        && Arrays.equals(s.std, std);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * height + width) + channels) + Arrays.hashCode(mean) * 7
        + Arrays.hashCode(std);
  }

  @Override
  public String toString() {
    return height + "x" + width + "x" + channels + " mean=" + Arrays.toString(mean) + " std="
        + Arrays.toString(std);
  }
}
