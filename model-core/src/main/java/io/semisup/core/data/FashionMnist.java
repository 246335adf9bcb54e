package io.semisup.core.data;

import io.semisup.core.UsageError;
import io.semisup.core.image.InputSpec;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST as installed by Debian's {@code dataset-fashion-mnist} (IDX files, gzip).
 *
 * <p>Why it exists: the demo and every experiment need real, offline data, and the machines
 * cannot download anything at run time. The whole split is held in memory (60k x 784 bytes is
 * 47 MB), so callers get random access by index; images stay raw bytes until a caller turns
 * them into normalized tensors with {@link #chw(int, InputSpec)}.
 */
public final class FashionMnist {

  /** Where the Debian package installs the files. */
  public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  /** Class names in label order, safe as folder names (no spaces or slashes). */
  public static final List<String> CLASS_NAMES =
      List.of(
          "t-shirt_top", "trouser", "pullover", "dress", "coat",
          "sandal", "shirt", "sneaker", "bag", "ankle_boot");

  /** Image side in pixels. */
  public static final int SIDE = 28;

  /** Pixels per image. */
  public static final int PIXELS = SIDE * SIDE;

  /**
   * The normalization used for Fashion-MNIST models: mean and std of the 60k training pixels
   * scaled to [0,1] (0.2860, 0.3530), so inputs are roughly zero-mean and unit-variance.
   */
  public static final InputSpec INPUT_SPEC =
      new InputSpec(SIDE, SIDE, 1, new float[] {0.2860f}, new float[] {0.3530f});

  private static final int IMAGES_MAGIC = 2051;
  private static final int LABELS_MAGIC = 2049;

  private final byte[] pixels;
  private final byte[] labels;

  private FashionMnist(byte[] pixels, byte[] labels) {
    this.pixels = pixels;
    this.labels = labels;
  }

  /**
   * Reads one split.
   *
   * @param dir folder holding the four {@code *-ubyte.gz} files
   * @param train {@code train-*} (60k) when true, {@code t10k-*} (10k) when false
   * @throws UsageError naming the missing file and the package that provides it
   * @throws UncheckedIOException when a file is present but cannot be read or is malformed
   */
  public static FashionMnist load(Path dir, boolean train) {
    String prefix = train ? "train" : "t10k";
    Path images = dir.resolve(prefix + "-images-idx3-ubyte.gz");
    Path labelFile = dir.resolve(prefix + "-labels-idx1-ubyte.gz");
    for (Path p : List.of(images, labelFile)) {
      if (!Files.isRegularFile(p)) {
        throw new UsageError(
            "Cannot read Fashion-MNIST: " + p + " is missing. Install it with"
                + " `apt-get install -y dataset-fashion-mnist` (as root), or point to a folder"
                + " holding the four IDX .gz files.");
      }
    }
    byte[] px = readIdx(images, IMAGES_MAGIC);
    byte[] lb = readIdx(labelFile, LABELS_MAGIC);
    if (px.length != lb.length * PIXELS) {
      throw new UncheckedIOException(
          new IOException(
              "Cannot use " + images + " with " + labelFile + ": " + px.length / PIXELS
                  + " images but " + lb.length + " labels"));
    }
    return new FashionMnist(px, lb);
  }

  private static byte[] readIdx(Path file, int expectedMagic) {
    try (InputStream raw = Files.newInputStream(file);
        DataInputStream in = new DataInputStream(new GZIPInputStream(raw, 1 << 16))) {
      int magic = in.readInt();
      if (magic != expectedMagic) {
        throw new IOException(
            "Cannot read " + file + ": IDX magic " + magic + ", expected " + expectedMagic);
      }
      int n = in.readInt();
      long total = n;
      if (expectedMagic == IMAGES_MAGIC) {
        int rows = in.readInt();
        int cols = in.readInt();
        if (rows != SIDE || cols != SIDE) {
          throw new IOException(
              "Cannot read " + file + ": images are " + rows + "x" + cols + ", expected 28x28");
        }
        total *= PIXELS;
      }
      byte[] data = new byte[Math.toIntExact(total)];
      in.readFully(data);
      return data;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Number of images in this split. */
  public int size() {
    return labels.length;
  }

  /** The 784 raw grey bytes (row-major, 0 = black background) of image {@code i}; a copy. */
  public byte[] pixels(int i) {
    byte[] out = new byte[PIXELS];
    System.arraycopy(pixels, i * PIXELS, out, 0, PIXELS);
    return out;
  }

  /** Label of image {@code i}, 0..9, index into {@link #CLASS_NAMES}. */
  public int label(int i) {
    return labels[i];
  }

  /** Image {@code i} as a normalized CHW tensor under {@code spec} (which must be 28x28x1). */
  public float[] chw(int i, InputSpec spec) {
    if (spec.height() != SIDE || spec.width() != SIDE || spec.channels() != 1) {
      throw new IllegalArgumentException(
          "Cannot prepare Fashion-MNIST for " + spec + ": only 28x28x1 is supported here");
    }
    float mean = spec.mean()[0];
    float std = spec.std()[0];
    float[] out = new float[PIXELS];
    int base = i * PIXELS;
    for (int k = 0; k < PIXELS; k++) {
      out[k] = ((pixels[base + k] & 0xFF) / 255f - mean) / std;
    }
    return out;
  }

  /** Tensors for the given indices, in order (see {@link #chw(int, InputSpec)}). */
  public float[][] chw(int[] indices, InputSpec spec) {
    float[][] out = new float[indices.length][];
    for (int k = 0; k < indices.length; k++) {
      out[k] = chw(indices[k], spec);
    }
    return out;
  }

  /** Labels for the given indices, in order. */
  public int[] labels(int[] indices) {
    int[] out = new int[indices.length];
    for (int k = 0; k < indices.length; k++) {
      out[k] = label(indices[k]);
    }
    return out;
  }
}
