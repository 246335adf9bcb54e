package io.semisup.core.image;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * The bytes of images and non-images that web-scale inputs contain, built here (no fixture
 * files) so every case says exactly what it is: colour variants the JDK decodes wrongly, files
 * cut short, files that are not images at all, and decompression bombs. The decodable ones show
 * four quadrants of known colour ({@link #QUADRANTS}) so a test can check the decoded colours
 * and orientation, not only that decoding returned something.
 *
 * <p>Shared with pipeline-jobs' ingest tests (model-core's test jar).
 */
public final class HostileImages {

  /** Colours of the quadrants, in order top-left, top-right, bottom-left, bottom-right. */
  public static final int[][] QUADRANTS = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {128, 128, 128}};

  /** The same colours as CMYK ink (0..255 = none..full). */
  private static final int[][] QUADRANT_INK = {
    {0, 255, 255, 0}, {255, 0, 255, 0}, {255, 255, 0, 0}, {0, 0, 0, 127}
  };

  private HostileImages() {}

  /** Index into {@link #QUADRANTS} of pixel (x, y) of a w x h quadrant image. */
  static int quadrant(int x, int y, int w, int h) {
    return (y < h / 2 ? 0 : 2) + (x < w / 2 ? 0 : 1);
  }

  /** An 8-bit sRGB quadrant image. */
  public static BufferedImage quadrants(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int[] c = QUADRANTS[quadrant(x, y, w, h)];
        img.setRGB(x, y, (c[0] << 16) | (c[1] << 8) | c[2]);
      }
    }
    return img;
  }

  /**
   * The mean 8-bit R, G, B of a window around the centre of each quadrant of {@code img}, in
   * {@link #QUADRANTS} order: what a test compares with the colours written.
   */
  public static int[][] quadrantColours(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    int[][] out = new int[4][3];
    for (int q = 0; q < 4; q++) {
      int cx = (q % 2 == 0 ? w / 4 : 3 * w / 4);
      int cy = (q < 2 ? h / 4 : 3 * h / 4);
      int rx = Math.max(0, w / 8 - 1);
      int ry = Math.max(0, h / 8 - 1);
      long[] sum = new long[3];
      int n = 0;
      for (int y = cy - ry; y <= cy + ry; y++) {
        for (int x = cx - rx; x <= cx + rx; x++) {
          int p = img.getRGB(x, y);
          sum[0] += (p >> 16) & 0xff;
          sum[1] += (p >> 8) & 0xff;
          sum[2] += p & 0xff;
          n++;
        }
      }
      for (int c = 0; c < 3; c++) {
        out[q][c] = (int) Math.round(sum[c] / (double) n);
      }
    }
    return out;
  }

  /** Largest difference of any channel of any quadrant from {@code expected}. */
  public static int colourError(BufferedImage img, int[][] expected) {
    int[][] got = quadrantColours(img);
    int worst = 0;
    for (int q = 0; q < 4; q++) {
      for (int c = 0; c < 3; c++) {
        worst = Math.max(worst, Math.abs(got[q][c] - expected[q][c]));
      }
    }
    return worst;
  }

  public static byte[] png(BufferedImage img) {
    return write(img, "png");
  }

  public static byte[] gif(BufferedImage img) {
    return write(img, "gif");
  }

  public static byte[] bmp(BufferedImage img) {
    return write(img, "bmp");
  }

  /** Baseline JPEG at quality 0.95. */
  public static byte[] jpeg(BufferedImage img) {
    return jpeg(new IIOImage(img, null, null), false);
  }

  /** Progressive JPEG (SOF2, several scans). */
  public static byte[] progressiveJpeg(BufferedImage img) {
    return jpeg(new IIOImage(img, null, null), true);
  }

  /** 16 bits per channel RGB PNG of the quadrants (each 8-bit value v stored as v * 257). */
  public static byte[] png16(int w, int h) {
    ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB),
        false, false, Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
    WritableRaster r = cm.createCompatibleWritableRaster(w, h);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int[] c = QUADRANTS[quadrant(x, y, w, h)];
        r.setPixel(x, y, new int[] {c[0] * 257, c[1] * 257, c[2] * 257});
      }
    }
    return png(new BufferedImage(cm, r, false, null));
  }

  /** A 4-colour palette image of the quadrants (GIF's only kind of image). */
  public static BufferedImage paletted(int w, int h) {
    byte[][] rgb = new byte[3][4];
    for (int q = 0; q < 4; q++) {
      for (int c = 0; c < 3; c++) {
        rgb[c][q] = (byte) QUADRANTS[q][c];
      }
    }
    IndexColorModel cm = new IndexColorModel(2, 4, rgb[0], rgb[1], rgb[2]);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, cm);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.getRaster().setSample(x, y, 0, quadrant(x, y, w, h));
      }
    }
    return img;
  }

  /**
   * A CMYK JPEG of the quadrants as Photoshop writes them: an Adobe APP14 segment (transform 0)
   * and inverted ink values, no ICC profile.
   */
  public static byte[] cmykJpeg(int w, int h) {
    WritableRaster r = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int[] ink = QUADRANT_INK[quadrant(x, y, w, h)];
        r.setPixel(x, y, new int[] {255 - ink[0], 255 - ink[1], 255 - ink[2], 255 - ink[3]});
      }
    }
    return withAdobe(jpeg(new IIOImage(r, null, null), false), 0);
  }

  /**
   * A YCCK JPEG of the quadrants (Adobe transform 2): the C, M, Y ink stored as YCbCr, K
   * inverted, as Adobe's encoder does.
   */
  public static byte[] ycckJpeg(int w, int h) {
    WritableRaster r = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int[] ink = QUADRANT_INK[quadrant(x, y, w, h)];
        double c = ink[0];
        double m = ink[1];
        double yy = ink[2];
        double luma = 0.299 * c + 0.587 * m + 0.114 * yy;
        double cb = -0.168736 * c - 0.331264 * m + 0.5 * yy + 128;
        double cr = 0.5 * c - 0.418688 * m - 0.081312 * yy + 128;
        r.setPixel(x, y, new int[] {clamp(luma), clamp(cb), clamp(cr), 255 - ink[3]});
      }
    }
    return withAdobe(jpeg(new IIOImage(r, null, null), false), 2);
  }

  /**
   * A baseline JPEG of a w x h quadrant image with an APP1 Exif segment whose only tag is
   * Orientation = {@code orientation} (6: the camera was turned 90 degrees clockwise; viewers
   * show the stored top-left quadrant at the top right).
   */
  public static byte[] exifJpeg(int w, int h, int orientation) {
    byte[] jpeg = jpeg(quadrants(w, h));
    ByteBuffer tiff = ByteBuffer.allocate(8 + 2 + 12 + 4); // big-endian, as "MM" says
    tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8);
    tiff.putShort((short) 1); // one entry
    tiff.putShort((short) 274).putShort((short) 3).putInt(1).putShort((short) orientation)
        .putShort((short) 0);
    tiff.putInt(0); // no next IFD
    byte[] payload = concat("Exif\0\0".getBytes(StandardCharsets.ISO_8859_1), tiff.array());
    return insertAfterApp0(jpeg, segment(0xE1, payload));
  }

  /** The first {@code fraction} of the bytes: a download that stopped. */
  public static byte[] cut(byte[] bytes, double fraction) {
    return Arrays.copyOf(bytes, (int) (bytes.length * fraction));
  }

  /** An HTML error page, as servers return for images that are gone. */
  public static byte[] html() {
    return ("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
        + "<body><h1>Not Found</h1></body></html>\n").getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] text() {
    return "just some notes, saved with the wrong extension\n".getBytes(StandardCharsets.UTF_8);
  }

  /** Seeded random bytes (with seed 7 and 4096 bytes: no format recognises them). */
  public static byte[] randomBytes(long seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** A PNG signature and a valid IHDR, then nothing: no image data, no IEND. */
  public static byte[] headerOnlyPng(int w, int h) {
    return concat(PNG_SIGNATURE, chunk("IHDR", ihdr(w, h)));
  }

  /**
   * A PNG decompression bomb: a valid IHDR of {@code side x side} 8-bit grey pixels and one IDAT
   * whose deflate stream inflates to every row of it (filter byte and pixels all zero), then
   * IEND. With side 40,000 that is 1.6 x 10^9 pixels (1.6 GB inflated) in about 1.6 MB: a
   * decoder that trusts the header allocates what it claims.
   */
  public static byte[] pngBomb(int side) {
    long raw = (long) side * (side + 1);
    // Deflating 1.6 GB takes most of a minute; a block of 1 MiB of zeros, flushed so it refers
    // to nothing before it, repeated, is the same stream in milliseconds.
    int chunk = 1 << 20;
    byte[] block = zerosBlock(chunk);
    ByteArrayOutputStream idat = new ByteArrayOutputStream();
    idat.write(0x78);
    idat.write(0xDA); // zlib header: deflate, 32K window, best compression
    for (long i = 0; i < raw / chunk; i++) {
      idat.writeBytes(block);
    }
    if (raw % chunk != 0) {
      idat.writeBytes(zerosBlock((int) (raw % chunk)));
    }
    idat.writeBytes(new byte[] {1, 0, 0, (byte) 0xFF, (byte) 0xFF}); // final empty stored block
    long adler = ((raw % 65521) << 16) | 1; // Adler-32 of raw zero bytes
    idat.writeBytes(ByteBuffer.allocate(4).putInt((int) adler).array());
    byte[] hdr = ihdr(side, side);
    hdr[9] = 0; // colour type grey
    return concat(PNG_SIGNATURE, chunk("IHDR", hdr), chunk("IDAT", idat.toByteArray()),
        chunk("IEND", new byte[0]));
  }

  /** Raw deflate blocks for {@code n} zero bytes, ending byte-aligned (full flush), not final. */
  private static byte[] zerosBlock(int n) {
    Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
    d.setInput(new byte[n]);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[1 << 16];
    int k;
    do {
      k = d.deflate(buf, 0, buf.length, Deflater.FULL_FLUSH);
      out.write(buf, 0, k);
    } while (k == buf.length);
    d.end();
    return out.toByteArray();
  }

  // --- bytes -------------------------------------------------------------------------------

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /** IHDR body: w x h, 8 bits, colour type 2 (RGB), no interlace. */
  private static byte[] ihdr(int w, int h) {
    return ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0)
        .put((byte) 0).put((byte) 0).array();
  }

  private static byte[] chunk(String type, byte[] data) {
    byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    return ByteBuffer.allocate(12 + data.length).putInt(data.length).put(t).put(data)
        .putInt((int) crc.getValue()).array();
  }

  private static byte[] segment(int marker, byte[] payload) {
    return ByteBuffer.allocate(4 + payload.length).put((byte) 0xFF).put((byte) marker)
        .putShort((short) (payload.length + 2)).put(payload).array();
  }

  private static byte[] withAdobe(byte[] jpeg, int transform) {
    byte[] adobe = {'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, (byte) transform};
    return insertAfterApp0(jpeg, segment(0xEE, adobe));
  }

  /** Inserts a marker segment after SOI and the JFIF APP0 segment, if there is one. */
  private static byte[] insertAfterApp0(byte[] jpeg, byte[] seg) {
    int at = 2;
    if ((jpeg[2] & 0xff) == 0xFF && (jpeg[3] & 0xff) == 0xE0) {
      at = 4 + (((jpeg[4] & 0xff) << 8) | (jpeg[5] & 0xff));
    }
    return concat(Arrays.copyOf(jpeg, at), seg, Arrays.copyOfRange(jpeg, at, jpeg.length));
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static int clamp(double v) {
    return (int) Math.max(0, Math.min(255, Math.round(v)));
  }

  private static byte[] write(BufferedImage img, String format) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, format, out)) {
        throw new IllegalStateException("Cannot write a " + format + ": no ImageIO writer for it");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * JPEG through the JDK's writer, which writes 4-band rasters as they are (no colour
   * transform, no Adobe segment: the callers add it).
   */
  private static byte[] jpeg(IIOImage image, boolean progressive) {
    ImageWriter writer = null;
    for (Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg"); it.hasNext(); ) {
      ImageWriter w = it.next();
      if (w.getOriginatingProvider().getClass().getName().startsWith("com.sun.")) {
        writer = w;
      }
    }
    if (writer == null) {
      throw new IllegalStateException("Cannot write JPEG test images: the JDK's JPEG writer is missing");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
      writer.setOutput(ios);
      ImageWriteParam p = writer.getDefaultWriteParam();
      if (progressive) {
        p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
      }
      p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      p.setCompressionQuality(0.95f);
      writer.write(null, image, p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }
}
