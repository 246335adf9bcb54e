package io.semisup.core.image;

import java.awt.Graphics2D;
import java.awt.Image;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Model-ready storage: an image whose longer side exceeds {@code maxSide} is stored as a JPEG of
 * that longer side, so every later decode (scoring a billion images, training) reads and decodes
 * a small file instead of the original (FFCV stores ImageNet so, at a 256-512 pixel side). Images
 * already within the side keep their original bytes: re-encoding them would only lose quality.
 *
 * <p>Shrinking is OpenCV's area average (libjpeg-turbo encodes) where its natives load, else
 * Java2D's area averaging and ImageIO's JPEG writer. Thread-safe: immutable.
 */
public final class ModelReadyEncoder implements Serializable {
  private static final long serialVersionUID = 1L;

  /** What is stored for one image: its bytes, their format and size. */
  public record Stored(byte[] bytes, String format, int width, int height, boolean reencoded) {}

  private final int maxSide;
  private final int quality;

  /**
   * @param maxSide longest side stored, at least 1
   * @param quality JPEG quality of re-encoded images, 1-100
   */
  public ModelReadyEncoder(int maxSide, int quality) {
    if (maxSide < 1 || quality < 1 || quality > 100) {
      throw new IllegalArgumentException("Cannot store images at max side " + maxSide
          + " and JPEG quality " + quality + ": the side must be >= 1 and the quality 1-100");
    }
    this.maxSide = maxSide;
    this.quality = quality;
  }

  public int maxSide() {
    return maxSide;
  }

  /** The stored size of an upright {@code w x h} image: within {@code maxSide}, same aspect. */
  public int[] storedSize(int w, int h) {
    if (Math.max(w, h) <= maxSide) {
      return new int[] {w, h};
    }
    double f = maxSide / (double) Math.max(w, h);
    return new int[] {Math.max(1, (int) Math.round(w * f)), Math.max(1, (int) Math.round(h * f))};
  }

  /**
   * What to store for {@code original}, decoded as {@code d} (at full size or at a DCT reduction
   * that covers the stored size, {@link FastImageDecoder#decodeForLongSide}).
   */
  public Stored store(byte[] original, FastImageDecoder.Decoded d) {
    int[] size = storedSize(d.fullWidth(), d.fullHeight());
    if (size[0] == d.fullWidth() && size[1] == d.fullHeight()) {
      return new Stored(original, d.image().format(), d.fullWidth(), d.fullHeight(), false);
    }
    BufferedImage bgr = bgr(d.image().image());
    byte[] jpeg = OpenCvCodec.available()
        ? OpenCvCodec.resizeToJpeg(bgr, size[0], size[1], quality)
        : java2dJpeg(bgr, size[0], size[1]);
    return new Stored(jpeg, "jpeg", size[0], size[1], true);
  }

  /** The image as plain interleaved BGR bytes (alpha dropped, grey and palettes expanded). */
  static BufferedImage bgr(BufferedImage img) {
    if (img.getType() == BufferedImage.TYPE_3BYTE_BGR && img.getRaster().getParent() == null
        && img.getRaster().getSampleModelTranslateX() == 0
        && img.getRaster().getSampleModelTranslateY() == 0) {
      return img;
    }
    BufferedImage out = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = out.createGraphics();
    g.drawImage(img, 0, 0, null);
    g.dispose();
    return out;
  }

  private byte[] java2dJpeg(BufferedImage bgr, int w, int h) {
    BufferedImage small = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = small.createGraphics();
    g.drawImage(bgr.getScaledInstance(w, h, Image.SCALE_AREA_AVERAGING), 0, 0, null);
    g.dispose();
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
    ImageWriter writer = writers.next();
    try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
      ImageWriteParam p = writer.getDefaultWriteParam();
      p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      p.setCompressionQuality(quality / 100f);
      writer.setOutput(out);
      writer.write(null, new IIOImage(small, null, null), p);
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException("Could not encode a " + w + "x" + h + " JPEG in memory", e);
    } finally {
      writer.dispose();
    }
  }
}
