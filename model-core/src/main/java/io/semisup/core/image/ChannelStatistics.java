package io.semisup.core.image;

import java.awt.image.BufferedImage;
import java.io.Serializable;

/**
 * Per-channel mean and standard deviation of pixel/255 over a set of images, both as grey (one
 * channel) and as RGB (three), and how many of the images are colour: what a model's
 * {@link InputSpec} normalises by when the user gives no mean and std. Pixels are read exactly as
 * {@link Preprocessor} reads them for the network, at each image's own size (resizing barely
 * moves a mean). Mergeable, so Spark tasks can each add their images and the driver merges.
 */
public final class ChannelStatistics implements Serializable {
  private static final long serialVersionUID = 1L;

  private long images;
  private long colourImages;
  private long pixels;
  private final double[] greySum = new double[1];
  private final double[] greySquares = new double[1];
  private final double[] rgbSum = new double[3];
  private final double[] rgbSquares = new double[3];

  /** Adds one decoded image. */
  public ChannelStatistics add(BufferedImage img) {
    int h = img.getHeight();
    int w = img.getWidth();
    accumulate(planes(img, h, w, 1), greySum, greySquares);
    accumulate(planes(img, h, w, 3), rgbSum, rgbSquares);
    pixels += (long) h * w;
    images++;
    if (isColour(img)) {
      colourImages++;
    }
    return this;
  }

  /** Whether the image carries colour (three colour components), as opposed to grey levels. */
  public static boolean isColour(BufferedImage img) {
    return img.getColorModel().getNumColorComponents() >= 3;
  }

  /** This plus {@code other}'s images (this is changed and returned). */
  public ChannelStatistics merge(ChannelStatistics other) {
    images += other.images;
    colourImages += other.colourImages;
    pixels += other.pixels;
    for (int c = 0; c < 3; c++) {
      rgbSum[c] += other.rgbSum[c];
      rgbSquares[c] += other.rgbSquares[c];
    }
    greySum[0] += other.greySum[0];
    greySquares[0] += other.greySquares[0];
    return this;
  }

  public long images() {
    return images;
  }

  public long colourImages() {
    return colourImages;
  }

  /** 3 when any image is colour, else 1: what a model must take not to lose the colour. */
  public int channels() {
    return colourImages > 0 ? 3 : 1;
  }

  /** Mean of pixel/255 per channel, for a model of {@code channels} (1 or 3) channels. */
  public double[] mean(int channels) {
    double[] sum = channels == 1 ? greySum : rgbSum;
    double[] out = new double[sum.length];
    for (int c = 0; c < out.length; c++) {
      out[c] = sum[c] / pixels;
    }
    return out;
  }

  /** Population standard deviation of pixel/255 per channel. */
  public double[] std(int channels) {
    double[] sum = channels == 1 ? greySum : rgbSum;
    double[] squares = channels == 1 ? greySquares : rgbSquares;
    double[] out = new double[sum.length];
    for (int c = 0; c < out.length; c++) {
      double m = sum[c] / pixels;
      out[c] = Math.sqrt(Math.max(0, squares[c] / pixels - m * m));
    }
    return out;
  }

  private static float[] planes(BufferedImage img, int h, int w, int channels) {
    float[] zero = new float[channels];
    float[] one = new float[channels];
    java.util.Arrays.fill(one, 1f);
    return new Preprocessor(new InputSpec(h, w, channels, zero, one)).toChw(img);
  }

  private static void accumulate(float[] chw, double[] sum, double[] squares) {
    int area = chw.length / sum.length;
    for (int c = 0; c < sum.length; c++) {
      double s = 0;
      double q = 0;
      for (int i = c * area; i < (c + 1) * area; i++) {
        s += chw[i];
        q += (double) chw[i] * chw[i];
      }
      sum[c] += s;
      squares[c] += q;
    }
  }
}
