package io.semisup.core.mkd;

import boofcv.struct.image.GrayF32;
import java.awt.image.BufferedImage;

/** Grey conversion of decoded images for detection and patch sampling. */
public final class GrayImages {

  private GrayImages() {}

  /**
   * Luma (ITU-R BT.601 weights) in 0..255, the range BoofCV's detector thresholds are tuned for.
   */
  public static GrayF32 luma(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    GrayF32 gray = new GrayF32(w, h);
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      image.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int rgb = row[x];
        gray.data[y * w + x] =
            0.299f * ((rgb >> 16) & 0xff) + 0.587f * ((rgb >> 8) & 0xff) + 0.114f * (rgb & 0xff);
      }
    }
    return gray;
  }
}
