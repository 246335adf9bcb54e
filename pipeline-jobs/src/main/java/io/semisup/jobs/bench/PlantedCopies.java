package io.semisup.jobs.bench;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Altered copies of a grey image, as a crawl finds them: a random crop of 50-90% of the area
 * rescaled back to the original size (bilinear), a horizontal flip half of the time, and a JPEG
 * re-encoding at a random quality in 30-90. Seeded by the caller's {@link Random}.
 */
final class PlantedCopies {

  private PlantedCopies() {}

  /** An altered copy of {@code side x side} grey pixels, as grey pixels of the same size. */
  static byte[] alter(byte[] grey, int side, Random r) {
    BufferedImage src = new BufferedImage(side, side, BufferedImage.TYPE_BYTE_GRAY);
    src.getRaster().setDataElements(0, 0, side, side, grey);
    double area = 0.5 + 0.4 * r.nextDouble();
    double aspect = Math.exp((r.nextDouble() - 0.5) * 0.4); // within about 0.82-1.22
    int cw = clamp((int) Math.round(side * Math.sqrt(area * aspect)), 1, side);
    int ch = clamp((int) Math.round(side * Math.sqrt(area / aspect)), 1, side);
    int x0 = r.nextInt(side - cw + 1);
    int y0 = r.nextInt(side - ch + 1);
    boolean flip = r.nextBoolean();
    BufferedImage dst = new BufferedImage(side, side, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = dst.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    if (flip) {
      g.drawImage(src, side, 0, 0, side, x0, y0, x0 + cw, y0 + ch, null);
    } else {
      g.drawImage(src, 0, 0, side, side, x0, y0, x0 + cw, y0 + ch, null);
    }
    g.dispose();
    BufferedImage jpeg = reencode(dst, 0.3f + 0.6f * r.nextFloat());
    byte[] out = new byte[side * side];
    jpeg.getRaster().getDataElements(0, 0, side, side, out);
    return out;
  }

  private static BufferedImage reencode(BufferedImage img, float quality) {
    try {
      ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
        writer.setOutput(out);
        ImageWriteParam p = writer.getDefaultWriteParam();
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(quality);
        writer.write(null, new IIOImage(img, null, null), p);
      } finally {
        writer.dispose();
      }
      BufferedImage back = ImageIO.read(new ByteArrayInputStream(bytes.toByteArray()));
      if (back.getType() == BufferedImage.TYPE_BYTE_GRAY) {
        return back;
      }
      BufferedImage grey = new BufferedImage(back.getWidth(), back.getHeight(), BufferedImage.TYPE_BYTE_GRAY);
      grey.getGraphics().drawImage(back, 0, 0, null);
      return grey;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot re-encode a planted copy as JPEG", e);
    }
  }

  private static int clamp(int v, int lo, int hi) {
    return Math.max(lo, Math.min(hi, v));
  }
}
