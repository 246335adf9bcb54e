package io.semisup.core.image;

import com.twelvemonkeys.imageio.metadata.Directory;
import com.twelvemonkeys.imageio.metadata.Entry;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEG;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegment;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegmentUtil;
import com.twelvemonkeys.imageio.metadata.tiff.TIFF;
import com.twelvemonkeys.imageio.metadata.tiff.TIFFReader;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * The EXIF orientation of a JPEG (tag 274, values 1..8) and the pixel transform it asks for.
 * Cameras store the sensor's rows as they came and record how the picture was held; viewers turn
 * it upright. Without this, a portrait photo reaches the model lying on its side while its label
 * (and every person looking at it) says otherwise.
 *
 * <p>Like browsers, an orientation that is missing, unreadable or outside 1..8 means "as
 * stored": that is how the image looks to whoever labelled it.
 */
final class ExifOrientation {

  /** As stored: no transform. */
  static final int NORMAL = 1;

  private ExifOrientation() {}

  /** The orientation recorded in the JPEG's APP1 Exif segment, or {@link #NORMAL}. */
  static int ofJpeg(byte[] jpeg) {
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(jpeg))) {
      List<JPEGSegment> exif = JPEGSegmentUtil.readSegments(in, JPEG.APP1, "Exif");
      if (exif.isEmpty()) {
        return NORMAL;
      }
      byte[] data;
      try (InputStream d = exif.get(0).data()) {
        data = d.readAllBytes();
      }
      // "Exif\0" is the identifier; the TIFF structure starts after one more pad byte.
      int start = data.length > 0 && data[0] == 0 ? 1 : 0;
      try (ImageInputStream tiff = new MemoryCacheImageInputStream(
          new ByteArrayInputStream(data, start, data.length - start))) {
        Directory ifd = new TIFFReader().read(tiff);
        Entry e = ifd.getEntryById(TIFF.TAG_ORIENTATION);
        if (e == null || !(e.getValue() instanceof Number n)) {
          return NORMAL;
        }
        int v = n.intValue();
        return v >= 1 && v <= 8 ? v : NORMAL;
      }
    } catch (IOException | RuntimeException e) {
      return NORMAL; // damaged metadata: shown as stored, as browsers do
    }
  }

  /** The image turned upright: a new image for orientations 2..8, the same one for 1. */
  static BufferedImage apply(BufferedImage src, int orientation) {
    if (orientation < 2 || orientation > 8) {
      return src;
    }
    int w = src.getWidth();
    int h = src.getHeight();
    boolean swap = orientation >= 5;
    int ow = swap ? h : w;
    int oh = swap ? w : h;
    ColorModel cm = src.getColorModel();
    WritableRaster out = src.getRaster().createCompatibleWritableRaster(ow, oh);
    Raster in = src.getRaster();
    Object pixel = null;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        pixel = in.getDataElements(x, y, pixel);
        int dx;
        int dy;
        switch (orientation) {
          case 2 -> { dx = w - 1 - x; dy = y; }
          case 3 -> { dx = w - 1 - x; dy = h - 1 - y; }
          case 4 -> { dx = x; dy = h - 1 - y; }
          case 5 -> { dx = y; dy = x; }
          case 6 -> { dx = h - 1 - y; dy = x; }
          case 7 -> { dx = h - 1 - y; dy = w - 1 - x; }
          default -> { dx = y; dy = w - 1 - x; } // 8
        }
        out.setDataElements(dx, dy, pixel);
      }
    }
    return new BufferedImage(cm, out, cm.isAlphaPremultiplied(), null);
  }
}
