package io.semisup.core.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.io.Serializable;
import java.util.Objects;

/**
 * The one place pixels become model input, so training, evaluation and scoring of billions of
 * images all see identical tensors for identical images.
 *
 * <p>Every path goes through 8-bit channel values (as a stored image would have) and then one
 * per-channel lookup table holding {@code (v / 255f - mean[c]) / std[c]}, so the float math is
 * the same wherever the pixels come from. Grey is ITU-R BT.601 luma of the sRGB values; alpha is
 * ignored. Resizing is bilinear with pixel centres aligned (no antialiasing: meant for modest
 * scale changes). Thread-safe: immutable after construction.
 */
public final class Preprocessor implements Serializable {
  private static final long serialVersionUID = 1L;

  private final InputSpec spec;
  /** lut[c][v] = normalized value of 8-bit value v in channel c. */
  private final float[][] lut;
  /**
   * With a resize ratio above 1: the plain preprocessor at the resized sides, whose tensor is
   * then centre-cropped (null at ratio 1). Cropping the finished tensor keeps every path's pixels
   * identical to the plain resize at those sides.
   */
  private final Preprocessor resized;

  public Preprocessor(InputSpec spec) {
    this.spec = Objects.requireNonNull(spec, "spec");
    int[] sides = spec.resizedSides();
    resized = spec.resizeRatio() == 1 ? null
        : new Preprocessor(spec.withSize(sides[0], sides[1]).withResizeRatio(1));
    float[] mean = spec.mean();
    float[] std = spec.std();
    lut = new float[spec.channels()][256];
    for (int c = 0; c < spec.channels(); c++) {
      for (int v = 0; v < 256; v++) {
        lut[c][v] = (v / 255f - mean[c]) / std[c];
      }
    }
  }

  public InputSpec spec() {
    return spec;
  }

  /** CHW tensor of the image: converted to the spec's channels, resized to its size. */
  public float[] toChw(BufferedImage img) {
    Objects.requireNonNull(img, "img");
    if (resized != null) {
      return centreCrop(resized.toChw(img));
    }
    int h = img.getHeight();
    int w = img.getWidth();
    if (spec.channels() == 3) {
      byte[] bgr = plainBgrBytes(img);
      if (bgr != null) {
        return fromBgr(bgr, h, w);
      }
    }
    byte[][] planes = spec.channels() == 1 ? new byte[][] {grey(img)} : rgb(img);
    return normalize(planes, h, w);
  }

  /**
   * The RGB tensor of interleaved B, G, R bytes (what JPEGs decode to, so scoring's per-image
   * path), resized and normalized in one pass. Bit for bit what splitting the planes, {@link
   * #resize} and {@link #normalize} give: the same float operations in the same order, but each
   * source row is interpolated horizontally once instead of once per output row that reads it,
   * and no full-size planes are copied. Written by hand because it is part of the cost of every
   * scored image (500x375 photo to 224x224: about 1.5 ms through the planes, see
   * docs/benchmarks.md bench score).
   */
  private float[] fromBgr(byte[] bgr, int h, int w) {
    int oh = spec.height();
    int ow = spec.width();
    int area = oh * ow;
    float[] out = new float[3 * area];
    float[] lr = lut[0];
    float[] lg = lut[1];
    float[] lb = lut[2];
    if (h == oh && w == ow) {
      for (int i = 0; i < area; i++) {
        out[i] = lr[bgr[3 * i + 2] & 0xff];
        out[area + i] = lg[bgr[3 * i + 1] & 0xff];
        out[2 * area + i] = lb[bgr[3 * i] & 0xff];
      }
      return out;
    }
    int[] x0 = new int[ow];
    int[] x1 = new int[ow];
    float[] fx = new float[ow];
    axis(w, ow, x0, x1, fx);
    float[] ax = new float[ow];
    for (int x = 0; x < ow; x++) {
      ax[x] = 1 - fx[x];
    }
    int[] y0 = new int[oh];
    int[] y1 = new int[oh];
    float[] fy = new float[oh];
    axis(h, oh, y0, y1, fy);
    // The two most recent horizontally interpolated source rows, planes R, G, B side by side.
    float[][] rows = {new float[3 * ow], new float[3 * ow]};
    int[] held = {-1, -1};
    for (int y = 0; y < oh; y++) {
      float[] top = sourceRow(bgr, w, y0[y], y1[y], rows, held, x0, x1, ax, fx);
      float[] bot = sourceRow(bgr, w, y1[y], y0[y], rows, held, x0, x1, ax, fx);
      float wy = fy[y];
      float ay = 1 - wy;
      for (int c = 0; c < 3; c++) {
        float[] t = lut[c];
        int in = c * ow;
        int o = c * area + y * ow;
        for (int x = 0; x < ow; x++) {
          int v = Math.round(top[in + x] * ay + bot[in + x] * wy);
          out[o + x] = t[Math.min(255, Math.max(0, v))];
        }
      }
    }
    return out;
  }

  /**
   * Source row {@code s} interpolated along x (R, G, B planes of {@code ow} floats each), from
   * the two-row cache {@code rows}/{@code held}, computed into the slot not holding {@code keep}
   * when absent.
   */
  private static float[] sourceRow(byte[] bgr, int w, int s, int keep, float[][] rows,
      int[] held, int[] x0, int[] x1, float[] ax, float[] fx) {
    for (int i = 0; i < 2; i++) {
      if (held[i] == s) {
        return rows[i];
      }
    }
    int slot = held[0] == keep ? 1 : 0;
    float[] dst = rows[slot];
    held[slot] = s;
    int ow = ax.length;
    int base = s * w * 3;
    for (int x = 0; x < ow; x++) {
      int p0 = base + 3 * x0[x];
      int p1 = base + 3 * x1[x];
      float a = ax[x];
      float f = fx[x];
      dst[x] = (bgr[p0 + 2] & 0xff) * a + (bgr[p1 + 2] & 0xff) * f;
      dst[ow + x] = (bgr[p0 + 1] & 0xff) * a + (bgr[p1 + 1] & 0xff) * f;
      dst[2 * ow + x] = (bgr[p0] & 0xff) * a + (bgr[p1] & 0xff) * f;
    }
    return dst;
  }

  /**
   * CHW tensor of raw 8-bit grey pixels, row-major {@code h x w}, without a BufferedImage: the
   * fast path for grey datasets. Replicated to 3 channels for RGB specs, resized if needed.
   */
  public float[] toChw(byte[] greyPixels, int h, int w) {
    Objects.requireNonNull(greyPixels, "greyPixels");
    if (h <= 0 || w <= 0 || (long) h * w != greyPixels.length) {
      throw new IllegalArgumentException(
          "Cannot preprocess " + greyPixels.length + " grey pixels as " + h + "x" + w
              + ": need exactly h*w bytes");
    }
    if (resized != null) {
      return centreCrop(resized.toChw(greyPixels, h, w));
    }
    byte[][] planes = spec.channels() == 1
        ? new byte[][] {greyPixels}
        : new byte[][] {greyPixels, greyPixels, greyPixels};
    return normalize(planes, h, w);
  }

  /** The centre {@code spec} height x width of a tensor at the resized sides. */
  private float[] centreCrop(float[] big) {
    InputSpec from = resized.spec;
    int oh = spec.height();
    int ow = spec.width();
    int top = (from.height() - oh) / 2;
    int left = (from.width() - ow) / 2;
    float[] out = new float[spec.size()];
    for (int c = 0; c < spec.channels(); c++) {
      for (int y = 0; y < oh; y++) {
        System.arraycopy(big, (c * from.height() + top + y) * from.width() + left,
            out, (c * oh + y) * ow, ow);
      }
    }
    return out;
  }

  private float[] normalize(byte[][] planes, int h, int w) {
    int oh = spec.height();
    int ow = spec.width();
    int area = oh * ow;
    float[] out = new float[planes.length * area];
    for (int c = 0; c < planes.length; c++) {
      byte[] p = (h == oh && w == ow) ? planes[c] : resize(planes[c], h, w, oh, ow);
      float[] t = lut[c];
      int base = c * area;
      for (int i = 0; i < area; i++) {
        out[base + i] = t[p[i] & 0xff];
      }
    }
    return out;
  }

  /** Bilinear resize of one 8-bit plane, pixel centres aligned, rounded to 8 bits. */
  static byte[] resize(byte[] src, int h, int w, int oh, int ow) {
    int[] x0 = new int[ow];
    int[] x1 = new int[ow];
    float[] fx = new float[ow];
    axis(w, ow, x0, x1, fx);
    int[] y0 = new int[oh];
    int[] y1 = new int[oh];
    float[] fy = new float[oh];
    axis(h, oh, y0, y1, fy);
    byte[] out = new byte[oh * ow];
    for (int y = 0; y < oh; y++) {
      int r0 = y0[y] * w;
      int r1 = y1[y] * w;
      float wy = fy[y];
      for (int x = 0; x < ow; x++) {
        float top = (src[r0 + x0[x]] & 0xff) * (1 - fx[x]) + (src[r0 + x1[x]] & 0xff) * fx[x];
        float bot = (src[r1 + x0[x]] & 0xff) * (1 - fx[x]) + (src[r1 + x1[x]] & 0xff) * fx[x];
        int v = Math.round(top * (1 - wy) + bot * wy);
        out[y * ow + x] = (byte) Math.min(255, Math.max(0, v));
      }
    }
    return out;
  }

  private static void axis(int n, int on, int[] i0, int[] i1, float[] f) {
    double scale = (double) n / on;
    for (int o = 0; o < on; o++) {
      double s = (o + 0.5) * scale - 0.5;
      if (s < 0) {
        s = 0;
      }
      int a = Math.min((int) s, n - 1);
      i0[o] = a;
      i1[o] = Math.min(a + 1, n - 1);
      f[o] = (float) (s - a);
    }
  }

  /** 8-bit luma plane of any image. */
  static byte[] grey(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    if (isPlainGrey(img)) {
      return greySamples(img);
    }
    byte[] out = new byte[w * h];
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      img.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int p = row[x];
        int r = (p >> 16) & 0xff;
        int g = (p >> 8) & 0xff;
        int b = p & 0xff;
        out[y * w + x] = (byte) ((299 * r + 587 * g + 114 * b + 500) / 1000);
      }
    }
    return out;
  }

  /**
   * Three 8-bit planes R, G, B of any image. (The BGR rasters JPEGs decode to take {@link
   * #fromBgr} instead, which reads their bytes directly: through getRGB a 500x375 photo costs
   * about 4 ms.)
   */
  static byte[][] rgb(BufferedImage img) {
    if (isPlainGrey(img)) {
      byte[] g = greySamples(img);
      return new byte[][] {g, g, g};
    }
    int w = img.getWidth();
    int h = img.getHeight();
    byte[] r = new byte[w * h];
    byte[] g = new byte[w * h];
    byte[] b = new byte[w * h];
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      img.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0, i = y * w; x < w; x++, i++) {
        int p = row[x];
        r[i] = (byte) (p >> 16);
        g[i] = (byte) (p >> 8);
        b[i] = (byte) p;
      }
    }
    return new byte[][] {r, g, b};
  }

  /** The pixel bytes of a plain, untranslated {@code TYPE_3BYTE_BGR} sRGB image, else null. */
  private static byte[] plainBgrBytes(BufferedImage img) {
    if (img.getType() != BufferedImage.TYPE_3BYTE_BGR
        || !img.getColorModel().getColorSpace().isCS_sRGB()) {
      return null;
    }
    Raster raster = img.getRaster();
    int w = img.getWidth();
    int h = img.getHeight();
    if (raster.getDataBuffer() instanceof DataBufferByte db
        && db.getNumBanks() == 1
        && db.getOffset() == 0
        && raster.getSampleModel() instanceof ComponentSampleModel csm
        && csm.getPixelStride() == 3
        && csm.getScanlineStride() == 3 * w
        && java.util.Arrays.equals(csm.getBandOffsets(), new int[] {2, 1, 0})
        && raster.getSampleModelTranslateX() == 0
        && raster.getSampleModelTranslateY() == 0
        && db.getData().length == 3 * w * h) {
      return db.getData(); // only read, never written
    }
    return null;
  }

  /**
   * Grey colour space, not palette: the stored samples are the grey values. (getRGB would
   * convert Java's linear grey to sRGB and brighten them.)
   */
  private static boolean isPlainGrey(BufferedImage img) {
    return img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY
        && !(img.getColorModel() instanceof IndexColorModel);
  }

  private static byte[] greySamples(BufferedImage img) {
    Raster raster = img.getRaster();
    int w = img.getWidth();
    int h = img.getHeight();
    SampleModel sm = raster.getSampleModel();
    if (img.getType() == BufferedImage.TYPE_BYTE_GRAY
        && raster.getDataBuffer() instanceof DataBufferByte db
        && db.getNumBanks() == 1
        && sm instanceof ComponentSampleModel csm
        && csm.getPixelStride() == 1
        && csm.getScanlineStride() == w
        && raster.getSampleModelTranslateX() == 0
        && raster.getSampleModelTranslateY() == 0
        && db.getOffset() == 0
        && csm.getBandOffsets()[0] == 0
        && db.getData().length == w * h) {
      // Fast path (e.g. 28x28 grey PNG): the raster's bytes are the plane.
      return db.getData(); // only read, never written
    }
    int bits = sm.getSampleSize(0);
    int[] samples = raster.getSamples(0, 0, w, h, 0, (int[]) null);
    byte[] out = new byte[w * h];
    if (bits == 8) {
      for (int i = 0; i < out.length; i++) {
        out[i] = (byte) samples[i];
      }
    } else {
      long max = (1L << bits) - 1;
      for (int i = 0; i < out.length; i++) {
        out[i] = (byte) ((samples[i] * 255L + max / 2) / max);
      }
    }
    return out;
  }
}
