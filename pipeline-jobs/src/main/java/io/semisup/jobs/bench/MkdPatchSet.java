package io.semisup.jobs.bench;

import boofcv.struct.image.GrayF32;
import io.semisup.core.UsageError;
import io.semisup.core.mkd.GrayImages;
import io.semisup.core.mkd.Keypoint;
import io.semisup.core.mkd.KeypointDetector;
import io.semisup.core.mkd.MkdDescriptor;
import io.semisup.core.mkd.PatchSampler;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * An HPatches-like set of corresponding 32x32 patches built from real photographs (seeded): for
 * each photo, a second view made by a random homography (rotation up to 25 degrees, scale 0.8 to
 * 1.25, shear, mild perspective), a change of illumination (gain, offset and a linear gradient),
 * Gaussian noise and JPEG re-encoding at quality 40 to 90. SIFT keypoints (BoofCV) of the first
 * view give the reference patches; the same square mapped through the known homography, with a
 * jitter of its frame (up to 10 degrees of rotation, 12 % of scale, a quarter of the keypoint
 * radius of shift, about 1.6 patch pixels: HPatches' "hard" level in spirit), gives the
 * corresponding patch in the second view, as detector noise would. Patch {@code i} of {@link Pair#reference} matches patch
 * {@code i} of {@link Pair#target}, and nothing else of that pair.
 */
final class MkdPatchSet {

  /** Where Debian's opencv-doc puts its example images. */
  static final Path OPENCV_DATA = Path.of("/usr/share/doc/opencv-doc/examples/data");

  static final double ROTATION_DEGREES = 10;
  static final double SCALE = 0.12;
  static final double SHIFT = 0.25;

  /** Corresponding patches of one photo and its transformed view, 1024 values per patch. */
  record Pair(String image, float[] reference, float[] target, int count) {}

  private MkdPatchSet() {}

  /**
   * The photos usable as scenes: JPEG and PNG files of at least 240 x 240 pixels, without the
   * Graffiti pair (kept for the verification check), sorted by name.
   */
  static List<Path> photos(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new UsageError("Cannot build the MKD patch set: " + dir + " does not exist. Install the"
          + " Debian package opencv-doc (apt-get install opencv-doc) or pass --data-dir.");
    }
    List<Path> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.sorted().toList()) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!(name.endsWith(".jpg") || name.endsWith(".png")) || name.startsWith("graf")) {
          continue;
        }
        BufferedImage img = ImageIO.read(p.toFile());
        if (img != null && img.getWidth() >= 240 && img.getHeight() >= 240) {
          out.add(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /**
   * The scene a photo belongs to, so that views of one scene (stereo pairs such as left01 /
   * right01 or aloeL / aloeR, sequences such as aero1 / aero3) fall into the same split.
   */
  static String scene(Path photo) {
    String name = photo.getFileName().toString().toLowerCase(Locale.ROOT);
    name = name.substring(0, name.lastIndexOf('.')).replaceAll("[0-9_]+", "");
    name = name.replace("right", "left");
    if (name.length() > 4 && (name.endsWith("l") || name.endsWith("r") || name.endsWith("a")
        || name.endsWith("b"))) {
      String stem = name.substring(0, name.length() - 1);
      if (stem.equals("aloe") || stem.equals("leuven")) {
        return stem;
      }
    }
    return name;
  }

  /** The pair of one photo: up to {@code maxPatches} correspondences, seeded by {@code seed}. */
  static Pair build(Path photo, int maxPatches, long seed) {
    GrayF32 reference;
    try {
      reference = GrayImages.luma(ImageIO.read(photo.toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Random random = new Random(seed);
    double[] h = randomHomography(reference.width, reference.height, random);
    GrayF32 target = photometric(warp(reference, h), random);
    PatchSampler sampler = new PatchSampler();
    List<Keypoint> keypoints = new KeypointDetector(4 * maxPatches).detect(reference);
    List<Keypoint> kept = new ArrayList<>();
    for (Keypoint k : keypoints) {
      if (kept.size() < maxPatches && sampler.inside(reference, k, null)
          && sampler.inside(target, k, h)) {
        kept.add(k);
      }
    }
    int n = kept.size();
    float[] ref = new float[n * MkdDescriptor.PIXELS];
    float[] tgt = new float[n * MkdDescriptor.PIXELS];
    for (int i = 0; i < n; i++) {
      Keypoint k = kept.get(i);
      sampler.sample(reference, k, ref, i * MkdDescriptor.PIXELS);
      Keypoint jittered = new Keypoint(
          k.x() + k.radius() * SHIFT * (2 * random.nextDouble() - 1),
          k.y() + k.radius() * SHIFT * (2 * random.nextDouble() - 1),
          k.radius() * (1 + SCALE * (2 * random.nextDouble() - 1)),
          k.orientation() + Math.toRadians(ROTATION_DEGREES) * (2 * random.nextDouble() - 1));
      sampler.sample(target, jittered, h, tgt, i * MkdDescriptor.PIXELS);
    }
    return new Pair(photo.getFileName().toString(), ref, tgt, n);
  }

  /** Reference to target: about the image centre, rotation, scale, shear, then perspective. */
  static double[] randomHomography(int w, int h, Random random) {
    double angle = Math.toRadians(25) * (2 * random.nextDouble() - 1);
    double scale = Math.exp(Math.log(1.25) * (2 * random.nextDouble() - 1));
    double aspect = Math.exp(0.1 * (2 * random.nextDouble() - 1));
    double shear = 0.15 * (2 * random.nextDouble() - 1);
    double size = Math.max(w, h);
    double px = 0.3 / size * (2 * random.nextDouble() - 1);
    double py = 0.3 / size * (2 * random.nextDouble() - 1);
    double cos = Math.cos(angle);
    double sin = Math.sin(angle);
    // A = R * [[s, shear * s], [0, s * aspect]]
    double a11 = cos * scale;
    double a12 = cos * shear * scale - sin * scale * aspect;
    double a21 = sin * scale;
    double a22 = sin * shear * scale + cos * scale * aspect;
    double cx = w / 2.0;
    double cy = h / 2.0;
    // H = T(c) * [[A, 0], [p, 1]] * T(-c)
    double[] m = {a11, a12, 0, a21, a22, 0, px, py, 1};
    double[] toOrigin = {1, 0, -cx, 0, 1, -cy, 0, 0, 1};
    double[] back = {1, 0, cx, 0, 1, cy, 0, 0, 1};
    return multiply(back, multiply(m, toOrigin));
  }

  static double[] multiply(double[] a, double[] b) {
    double[] c = new double[9];
    for (int r = 0; r < 3; r++) {
      for (int k = 0; k < 3; k++) {
        for (int j = 0; j < 3; j++) {
          c[r * 3 + j] += a[r * 3 + k] * b[k * 3 + j];
        }
      }
    }
    return c;
  }

  static double[] invert(double[] m) {
    double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], i = m[8];
    double[] adj = {e * i - f * h, c * h - b * i, b * f - c * e,
        f * g - d * i, a * i - c * g, c * d - a * f,
        d * h - e * g, b * g - a * h, a * e - b * d};
    double det = a * adj[0] + b * adj[3] + c * adj[6];
    for (int k = 0; k < 9; k++) {
      adj[k] /= det;
    }
    return adj;
  }

  /** The second view: each target pixel read from the reference through the inverse homography. */
  static GrayF32 warp(GrayF32 reference, double[] h) {
    double[] inv = invert(h);
    GrayF32 out = new GrayF32(reference.width, reference.height);
    for (int y = 0; y < out.height; y++) {
      for (int x = 0; x < out.width; x++) {
        double w = inv[6] * x + inv[7] * y + inv[8];
        double sx = (inv[0] * x + inv[1] * y + inv[2]) / w;
        double sy = (inv[3] * x + inv[4] * y + inv[5]) / w;
        float v = 0;
        if (sx >= 0 && sy >= 0 && sx <= reference.width - 1 && sy <= reference.height - 1) {
          v = PatchSampler.bilinear(reference, sx, sy);
        }
        out.data[y * out.width + x] = v;
      }
    }
    return out;
  }

  /** Gain, offset, a linear illumination gradient, Gaussian noise, clipping, JPEG re-encoding. */
  static GrayF32 photometric(GrayF32 image, Random random) {
    double gain = 0.7 + 0.6 * random.nextDouble();
    double offset = 25 * (2 * random.nextDouble() - 1);
    double gx = 20 * (2 * random.nextDouble() - 1) / image.width;
    double gy = 20 * (2 * random.nextDouble() - 1) / image.height;
    double noise = 1 + 5 * random.nextDouble();
    int quality = 40 + random.nextInt(51);
    BufferedImage gray = new BufferedImage(image.width, image.height, BufferedImage.TYPE_BYTE_GRAY);
    byte[] pixels = ((java.awt.image.DataBufferByte) gray.getRaster().getDataBuffer()).getData();
    for (int y = 0; y < image.height; y++) {
      for (int x = 0; x < image.width; x++) {
        double v = gain * image.data[y * image.width + x] + offset
            + gx * (x - image.width / 2.0) + gy * (y - image.height / 2.0)
            + noise * random.nextGaussian();
        pixels[y * image.width + x] = (byte) Math.max(0, Math.min(255, Math.round(v)));
      }
    }
    return GrayImages.luma(jpeg(gray, quality));
  }

  private static BufferedImage jpeg(BufferedImage image, int quality) {
    try {
      Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
      ImageWriter writer = writers.next();
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
        writer.setOutput(out);
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(quality / 100f);
        writer.write(null, new IIOImage(image, null, null), param);
      } finally {
        writer.dispose();
      }
      return ImageIO.read(new ByteArrayInputStream(bytes.toByteArray()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
