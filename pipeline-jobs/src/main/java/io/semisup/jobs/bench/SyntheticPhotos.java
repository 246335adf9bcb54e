package io.semisup.jobs.bench;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Seeded JPEGs with the size and detail of ImageNet photos, for benchmarks that must decode
 * realistic bytes without shipping a data set. JPEG cost depends on pixel count and on how much
 * detail survives quantization (the entropy-coded bytes the decoder has to walk), so flat
 * synthetic images would flatter the decoder. Each picture layers what photos have: a smooth
 * lighting gradient, a few soft-edged objects with their own shading, oriented texture, blotchy
 * mid-frequency variation and sensor noise; at quality 90 a 500x375 picture comes out at about
 * 100 KB, like an average ImageNet training JPEG.
 *
 * <p>Picture {@code i} depends only on (seed, i), so pictures can be made in any order or in
 * parallel. Thread-safe: immutable.
 */
public final class SyntheticPhotos {

  /** ImageNet's typical landscape size. */
  public static final int DEFAULT_WIDTH = 500;

  public static final int DEFAULT_HEIGHT = 375;

  /** JPEG quality (0..1) of the encoder; with the detail below gives about 100 KB at 500x375. */
  public static final float DEFAULT_QUALITY = 0.9f;

  /** Standard deviation of the sensor noise, in 8-bit levels (scaled by 0.75..1.25). */
  private static final double NOISE_SIGMA = 14;

  private static final float[] GAUSS = new float[1 << 16];

  static {
    SplittableRandom r = new SplittableRandom(0);
    for (int i = 0; i < GAUSS.length; i++) {
      GAUSS[i] = (float) r.nextGaussian();
    }
  }

  private final long seed;
  private final int width;
  private final int height;
  private final float quality;

  public SyntheticPhotos(long seed) {
    this(seed, DEFAULT_WIDTH, DEFAULT_HEIGHT, DEFAULT_QUALITY);
  }

  public SyntheticPhotos(long seed, int width, int height, float quality) {
    if (width < 8 || height < 8) {
      throw new IllegalArgumentException(
          "Cannot make " + width + "x" + height + " pictures: both sides must be at least 8");
    }
    if (!(quality > 0 && quality <= 1)) {
      throw new IllegalArgumentException("Cannot use JPEG quality " + quality + ": need (0, 1]");
    }
    this.seed = seed;
    this.width = width;
    this.height = height;
    this.quality = quality;
  }

  /** Picture {@code index} as JPEG bytes. */
  public byte[] jpeg(long index) {
    return encode(image(index));
  }

  /** Picture {@code index} as an RGB image. */
  public BufferedImage image(long index) {
    SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
    float[][] rgb = new float[3][width * height];
    background(rnd, rgb);
    int objects = 2 + rnd.nextInt(4);
    for (int o = 0; o < objects; o++) {
      object(rnd, rgb);
    }
    texture(rnd, rgb);
    blotches(rnd, rgb);
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
    byte[] px = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
    float noise = (float) (NOISE_SIGMA * (0.75 + rnd.nextDouble() * 0.5));
    for (int i = 0, n = width * height; i < n; i++) {
      // TYPE_3BYTE_BGR stores B, G, R per pixel. Gaussian sensor noise from a table: drawing
      // 3 x 190k Gaussians per picture would dominate the generation time.
      px[3 * i] = clamp(rgb[2][i] + GAUSS[rnd.nextInt(GAUSS.length)] * noise);
      px[3 * i + 1] = clamp(rgb[1][i] + GAUSS[rnd.nextInt(GAUSS.length)] * noise);
      px[3 * i + 2] = clamp(rgb[0][i] + GAUSS[rnd.nextInt(GAUSS.length)] * noise);
    }
    return img;
  }

  /** Linear gradient between two colours in a random direction (sky, wall, floor). */
  private void background(SplittableRandom rnd, float[][] rgb) {
    float[] a = colour(rnd);
    float[] b = colour(rnd);
    double angle = rnd.nextDouble() * Math.PI * 2;
    double dx = Math.cos(angle) / width;
    double dy = Math.sin(angle) / height;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        double t = 0.5 + (x - width / 2.0) * dx + (y - height / 2.0) * dy;
        t = Math.max(0, Math.min(1, t));
        int i = y * width + x;
        for (int c = 0; c < 3; c++) {
          rgb[c][i] = (float) (a[c] + (b[c] - a[c]) * t);
        }
      }
    }
  }

  /** A soft-edged ellipse with its own colour and a light falloff toward its rim. */
  private void object(SplittableRandom rnd, float[][] rgb) {
    float[] col = colour(rnd);
    double cx = rnd.nextDouble() * width;
    double cy = rnd.nextDouble() * height;
    double rx = width * (0.08 + rnd.nextDouble() * 0.3);
    double ry = height * (0.08 + rnd.nextDouble() * 0.3);
    double edge = 0.05 + rnd.nextDouble() * 0.2;
    int x0 = (int) Math.max(0, cx - rx - 1);
    int x1 = (int) Math.min(width - 1, cx + rx + 1);
    int y0 = (int) Math.max(0, cy - ry - 1);
    int y1 = (int) Math.min(height - 1, cy + ry + 1);
    for (int y = y0; y <= y1; y++) {
      for (int x = x0; x <= x1; x++) {
        double u = (x - cx) / rx;
        double v = (y - cy) / ry;
        double r = Math.sqrt(u * u + v * v);
        if (r >= 1) {
          continue;
        }
        double alpha = Math.min(1, (1 - r) / edge);
        double shade = 0.75 + 0.25 * (1 - r * r) - 0.15 * u;
        int i = y * width + x;
        for (int c = 0; c < 3; c++) {
          rgb[c][i] = (float) (rgb[c][i] * (1 - alpha) + col[c] * shade * alpha);
        }
      }
    }
  }

  /** Sum of oriented sinusoids: fabric, grass, bark-like fine structure. */
  private void texture(SplittableRandom rnd, float[][] rgb) {
    int waves = 3;
    double[] fx = new double[waves];
    double[] fy = new double[waves];
    double[] phase = new double[waves];
    double[] amp = new double[waves];
    for (int k = 0; k < waves; k++) {
      double angle = rnd.nextDouble() * Math.PI;
      double period = 2.5 + rnd.nextDouble() * 10;
      fx[k] = Math.cos(angle) * 2 * Math.PI / period;
      fy[k] = Math.sin(angle) * 2 * Math.PI / period;
      phase[k] = rnd.nextDouble() * 2 * Math.PI;
      amp[k] = 6 + rnd.nextDouble() * 12;
    }
    // sin(x fx + y fy + p) = sin(x fx) cos(y fy + p) + cos(x fx) sin(y fy + p): per-axis tables.
    float[][] sx = new float[waves][width];
    float[][] cx = new float[waves][width];
    float[][] sy = new float[waves][height];
    float[][] cy = new float[waves][height];
    for (int k = 0; k < waves; k++) {
      for (int x = 0; x < width; x++) {
        sx[k][x] = (float) (amp[k] * Math.sin(x * fx[k]));
        cx[k][x] = (float) (amp[k] * Math.cos(x * fx[k]));
      }
      for (int y = 0; y < height; y++) {
        sy[k][y] = (float) Math.sin(y * fy[k] + phase[k]);
        cy[k][y] = (float) Math.cos(y * fy[k] + phase[k]);
      }
    }
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        float t = 0;
        for (int k = 0; k < waves; k++) {
          t += sx[k][x] * cy[k][y] + cx[k][x] * sy[k][y];
        }
        int i = y * width + x;
        for (int c = 0; c < 3; c++) {
          rgb[c][i] += t;
        }
      }
    }
  }

  /** Value noise: a coarse random grid, bilinearly upsampled (uneven light, stains, foliage). */
  private void blotches(SplittableRandom rnd, float[][] rgb) {
    int cell = 6 + rnd.nextInt(10);
    int gw = width / cell + 2;
    int gh = height / cell + 2;
    float[][] grid = new float[3][gw * gh];
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < grid[c].length; i++) {
        grid[c][i] = (float) (rnd.nextGaussian() * 14);
      }
    }
    for (int y = 0; y < height; y++) {
      int gy = y / cell;
      float ty = (y % cell) / (float) cell;
      for (int x = 0; x < width; x++) {
        int gx = x / cell;
        float tx = (x % cell) / (float) cell;
        int i = y * width + x;
        int g00 = gy * gw + gx;
        for (int c = 0; c < 3; c++) {
          float[] g = grid[c];
          float top = g[g00] * (1 - tx) + g[g00 + 1] * tx;
          float bot = g[g00 + gw] * (1 - tx) + g[g00 + gw + 1] * tx;
          rgb[c][i] += top * (1 - ty) + bot * ty;
        }
      }
    }
  }

  private static float[] colour(SplittableRandom rnd) {
    return new float[] {
      (float) (30 + rnd.nextDouble() * 200),
      (float) (30 + rnd.nextDouble() * 200),
      (float) (30 + rnd.nextDouble() * 200)
    };
  }

  private static byte clamp(float v) {
    int r = Math.round(v);
    return (byte) (r < 0 ? 0 : Math.min(255, r));
  }

  private byte[] encode(BufferedImage img) {
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
    if (!writers.hasNext()) {
      throw new IllegalStateException("Cannot encode JPEG: this JVM has no ImageIO JPEG writer");
    }
    ImageWriter writer = writers.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(160_000);
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam p = writer.getDefaultWriteParam();
      p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      p.setCompressionQuality(quality);
      writer.write(null, new IIOImage(img, null, null), p);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot encode a synthetic JPEG: " + e.getMessage(), e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }
}
