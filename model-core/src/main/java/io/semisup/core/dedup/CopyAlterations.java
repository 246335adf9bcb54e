package io.semisup.core.dedup;

import java.awt.AlphaComposite;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
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
 * Makes an altered copy of a grey image, the way a copy of an evaluation image shows up in a
 * crawled pool: a random crop of 50-90% of the area (aspect ratio 3/4 to 4/3) rescaled back to
 * the original size, a horizontal flip (half the time), a rotation of up to 10 degrees (half the
 * time), contrast x[0.7, 1.3] and brightness +-30 levels, a border or a short text overlay (half
 * the time each way), and last a JPEG re-encoding at quality 30-90. Every draw comes from the
 * caller's {@link Random}, so a seeded benchmark plants the same copies on every run.
 *
 * <p>Why these: they are the transformations of the copy-detection benchmarks MultiGrain and
 * DISC21 use, within what a 28x28 image survives.
 */
public final class CopyAlterations {

  private CopyAlterations() {}

  /** What was done to one copy, for logs and for per-alteration recall. */
  public record Applied(double cropArea, boolean flipped, double rotationDegrees, String overlay,
      int jpegQuality) {}

  /** An altered copy of a row-major grey image ({@code side x side} bytes); returns new bytes. */
  public static byte[] alter(byte[] grey, int side, Random rnd) {
    return alter(grey, side, rnd, null);
  }

  /** How hard the alterations are. */
  public enum Strength {
    /** The benchmark's: crop 50-90% of the area, rotation up to 10 degrees, overlays. */
    STRONG(0.5, 0.4, 10, 0.5, 30),
    /** Crop 85-100%, rotation up to 3 degrees, no overlay, JPEG and jitter as STRONG. */
    MILD(0.85, 0.15, 3, 0, 30);

    final double minArea;
    final double areaSpan;
    final double maxDegrees;
    final double overlayProbability;
    final double maxBrightness;

    Strength(double minArea, double areaSpan, double maxDegrees, double overlayProbability,
        double maxBrightness) {
      this.minArea = minArea;
      this.areaSpan = areaSpan;
      this.maxDegrees = maxDegrees;
      this.overlayProbability = overlayProbability;
      this.maxBrightness = maxBrightness;
    }
  }

  /** As {@link #alter(byte[], int, Random)}, recording what was applied in {@code applied[0]}. */
  public static byte[] alter(byte[] grey, int side, Random rnd, Applied[] applied) {
    return alter(grey, side, rnd, applied, Strength.STRONG);
  }

  /** As {@link #alter(byte[], int, Random, Applied[])} at the given strength. */
  public static byte[] alter(byte[] grey, int side, Random rnd, Applied[] applied, Strength strength) {
    if (grey.length != side * side) {
      throw new IllegalArgumentException("Cannot alter " + grey.length + " bytes as a "
          + side + "x" + side + " image");
    }
    BufferedImage src = new BufferedImage(side, side, BufferedImage.TYPE_BYTE_GRAY);
    src.getRaster().setDataElements(0, 0, side, side, grey);

    double area = strength.minArea + strength.areaSpan * rnd.nextDouble();
    double aspect = Math.exp(Math.log(0.75) + (Math.log(4.0 / 3) - Math.log(0.75)) * rnd.nextDouble());
    int cw = clamp((int) Math.round(side * Math.sqrt(area * aspect)), 4, side);
    int ch = clamp((int) Math.round(side * Math.sqrt(area / aspect)), 4, side);
    int cx = rnd.nextInt(side - cw + 1);
    int cy = rnd.nextInt(side - ch + 1);
    boolean flip = rnd.nextBoolean();
    double degrees = rnd.nextBoolean() ? (rnd.nextDouble() * 2 - 1) * strength.maxDegrees : 0;

    BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.BLACK);
    g.fillRect(0, 0, side, side);
    AffineTransform t = new AffineTransform();
    t.rotate(Math.toRadians(degrees), side / 2.0, side / 2.0);
    if (flip) {
      t.translate(side, 0);
      t.scale(-1, 1);
    }
    t.scale(side / (double) cw, side / (double) ch); // the crop's own coordinates start at 0
    g.drawImage(src.getSubimage(cx, cy, cw, ch), t, null);

    String overlay = "none";
    double overlayDraw = rnd.nextDouble() / Math.max(1e-9, strength.overlayProbability) * 0.5;
    if (overlayDraw < 0.25) {
      overlay = "border";
      int width = 1 + rnd.nextInt(3);
      g.setColor(new Color(grey(rnd), grey(rnd), grey(rnd)));
      g.fillRect(0, 0, side, width);
      g.fillRect(0, side - width, side, width);
      g.fillRect(0, 0, width, side);
      g.fillRect(side - width, 0, width, side);
    } else if (overlayDraw < 0.5) {
      overlay = "text";
      g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, 0.8f));
      int v = grey(rnd);
      g.setColor(new Color(v, v, v));
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, Math.max(6, side / 4)));
      String text = TEXTS[rnd.nextInt(TEXTS.length)];
      g.drawString(text, rnd.nextInt(Math.max(1, side / 3)), side / 4 + rnd.nextInt(side * 3 / 4));
    }
    g.dispose();

    byte[] px = (byte[]) out.getRaster().getDataElements(0, 0, side, side, null);
    double contrast = 0.7 + 0.6 * rnd.nextDouble();
    double brightness = rnd.nextDouble() * 60 - 30;
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) clamp((int) Math.round((px[i] & 0xFF) * contrast + brightness), 0, 255);
    }
    out.getRaster().setDataElements(0, 0, side, side, px);

    int quality = 30 + rnd.nextInt(61);
    byte[] result = jpegRoundTrip(out, quality);
    if (applied != null) {
      applied[0] = new Applied(cw * ch / (double) (side * side), flip, degrees, overlay, quality);
    }
    return result;
  }

  private static final String[] TEXTS = {"(c)", "@me", "2026", "SALE", "ok"};

  private static int grey(Random rnd) {
    return 64 + rnd.nextInt(192);
  }

  /** Encodes as JPEG at {@code quality} (1-100) and decodes again, grey bytes out. */
  static byte[] jpegRoundTrip(BufferedImage img, int quality) {
    try {
      ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(bytes)) {
        writer.setOutput(ios);
        ImageWriteParam p = writer.getDefaultWriteParam();
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(quality / 100f);
        writer.write(null, new IIOImage(img, null, null), p);
      } finally {
        writer.dispose();
      }
      BufferedImage back = ImageIO.read(new ByteArrayInputStream(bytes.toByteArray()));
      int w = img.getWidth();
      int h = img.getHeight();
      BufferedImage grey = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
      Graphics2D g = grey.createGraphics();
      g.drawImage(back, 0, 0, null);
      g.dispose();
      return (byte[]) grey.getRaster().getDataElements(0, 0, w, h, null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int clamp(int v, int lo, int hi) {
    return Math.max(lo, Math.min(hi, v));
  }
}
