package io.semisup.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.semisup.core.testing.Prerequisites;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * libjpeg-turbo against ImageIO: the same pixels to within a level or two at full size, model
 * input within a few levels at a reduced DCT scale, and the scale chosen as the largest one that
 * still covers the model's input. Real photos are opencv-doc's JPEG examples.
 */
class FastImageDecoderTest {

  static final Path DATA = Path.of("/usr/share/doc/opencv-doc/examples/data");

  private final ImageDecoder imageio = new ImageDecoder(64L << 20, 100_000_000L);
  private final FastImageDecoder fast = new FastImageDecoder(imageio, FastImageDecoder.Kind.OPENCV);

  @Test
  void theScaleIsTheLargestReductionThatStillCoversTheInput() {
    assertThat(DctScale.reduction(500, 375, 224, 224)).isEqualTo(1);
    assertThat(DctScale.reduction(1600, 1200, 224, 224)).isEqualTo(4);
    assertThat(DctScale.reduction(1792, 1792, 224, 224)).isEqualTo(8);
    assertThat(DctScale.reduction(1791, 1792, 224, 224)).as("ceil(1791/8) = 224").isEqualTo(8);
    assertThat(DctScale.reduction(1785, 1792, 224, 224)).as("ceil(1785/8) = 224").isEqualTo(8);
    assertThat(DctScale.reduction(1784, 1792, 224, 224)).isEqualTo(4);
    assertThat(DctScale.reduction(640, 480, 320, 0)).as("a maximum side of 320").isEqualTo(2);
    assertThat(DctScale.reduction(100, 100, 224, 224)).isEqualTo(1);
    assertThat(DctScale.reduction(4000, 3000, 0, 0)).as("no size asked: full").isEqualTo(1);
  }

  @Test
  void aReducedDecodeHasLibjpegsSizeAndTheFullSizeIsStillReported() throws Exception {
    byte[] jpeg = HostileImages.jpeg(photo(1600, 1200, 3));
    FastImageDecoder.Decoded d = fast.decode(jpeg, 224, 224);
    assertThat(d.fast()).isTrue();
    assertThat(d.reduction()).isEqualTo(4);
    assertThat(d.image().width()).isEqualTo(400);
    assertThat(d.image().height()).isEqualTo(300);
    assertThat(d.fullWidth()).isEqualTo(1600);
    assertThat(d.fullHeight()).isEqualTo(1200);
    // A turned image: the minimum applies to the upright sides.
    FastImageDecoder.Decoded turned = fast.decode(HostileImages.exifJpeg(1000, 400, 6), 200, 0);
    assertThat(turned.reduction()).isEqualTo(2);
    assertThat(turned.image().width()).isEqualTo(200);
    assertThat(turned.image().height()).isEqualTo(500);
    assertThat(turned.fullWidth()).isEqualTo(400);
  }

  @Test
  void fullSizePixelsMatchImageIoOnSyntheticPhotos() throws Exception {
    for (int seed = 0; seed < 3; seed++) {
      byte[] jpeg = HostileImages.jpeg(photo(500, 375, seed));
      assertClosePixels("synthetic " + seed, jpeg);
    }
  }

  @Test
  void fullSizePixelsMatchImageIoOnRealPhotos() throws Exception {
    List<Path> photos = realJpegs();
    for (Path p : photos) {
      byte[] jpeg = Files.readAllBytes(p);
      if (JpegStructure.parse(jpeg) != null) {
        assertClosePixels(p.getFileName().toString(), jpeg);
      }
    }
  }

  @Test
  void modelInputFromAReducedDecodeIsCloseToTheFullDecode() throws Exception {
    InputSpec spec = new InputSpec(224, 224, 3, new float[] {0.485f, 0.456f, 0.406f},
        new float[] {0.229f, 0.224f, 0.225f});
    Preprocessor pre = new Preprocessor(spec);
    byte[] jpeg = HostileImages.jpeg(photo(1600, 1200, 7));
    float[] reference = pre.toChw(imageio.decode(jpeg).image());
    FastImageDecoder.Decoded d = fast.decode(jpeg, 224, 224);
    assertThat(d.reduction()).isEqualTo(4);
    float[] reduced = pre.toChw(d.image().image());
    double sum = 0;
    for (int i = 0; i < reference.length; i++) {
      sum += Math.abs(reference[i] - reduced[i]);
    }
    // In 8-bit levels (std ~0.225 -> 1 level = 0.0174 normalized): the DCT-domain reduction
    // averages where the bilinear resize of the full image samples, so a few levels on average.
    double meanLevels = sum / reference.length * 0.226 * 255;
    assertThat(meanLevels).isLessThan(6.0);
  }

  @Test
  void structureChecksSendUnusualJpegsToImageIo() {
    BufferedImage q = HostileImages.quadrants(64, 64);
    byte[] plain = HostileImages.jpeg(q);
    assertThat(JpegStructure.parse(plain)).isEqualTo(new JpegStructure(64, 64, 3, false));
    assertThat(JpegStructure.parse(HostileImages.progressiveJpeg(q))).isNull();
    assertThat(JpegStructure.parse(HostileImages.cmykJpeg(64, 64))).isNull();
    assertThat(JpegStructure.parse(HostileImages.cut(plain, 0.5))).isNull();
    assertThat(JpegStructure.parse(HostileImages.png(q))).isNull();
    assertThat(JpegStructure.parse(HostileImages.exifJpeg(64, 32, 6)).hasExif()).isTrue();
    // Garbage between two segments (libjpeg: "extraneous bytes before marker").
    byte[] garbage = new byte[plain.length + 3];
    System.arraycopy(plain, 0, garbage, 0, 20);
    garbage[20] = 1;
    garbage[21] = 2;
    garbage[22] = 3;
    System.arraycopy(plain, 20, garbage, 23, plain.length - 20);
    assertThat(plain[20] & 0xff).as("a segment starts at 20 (after APP0)").isEqualTo(0xFF);
    assertThat(JpegStructure.parse(garbage)).isNull();
  }

  private void assertClosePixels(String what, byte[] jpeg) throws Exception {
    BufferedImage a = imageio.decode(jpeg).image();
    FastImageDecoder.Decoded d = fast.decode(jpeg, 0, 0);
    assertThat(d.fast()).as(what).isTrue();
    BufferedImage b = d.image().image();
    assertThat(b.getWidth()).isEqualTo(a.getWidth());
    assertThat(b.getHeight()).isEqualTo(a.getHeight());
    byte[][] pa = Preprocessor.rgb(a);
    byte[][] pb = Preprocessor.rgb(b);
    long sum = 0;
    int max = 0;
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < pa[c].length; i++) {
        int diff = Math.abs((pa[c][i] & 0xff) - (pb[c][i] & 0xff));
        sum += diff;
        max = Math.max(max, diff);
      }
    }
    double mean = sum / (3.0 * pa[0].length);
    assertThat(mean).as("%s: mean level difference (max %d)", what, max).isLessThan(1.0);
    assertThat(max).as("%s: largest level difference", what).isLessThanOrEqualTo(12);
  }

  private static List<Path> realJpegs() throws Exception {
    Prerequisites.require(Files.exists(DATA.resolve("baboon.jpg")), "opencv-doc's example photos", "opencv-doc");
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(DATA)) {
      s.filter(p -> p.toString().endsWith(".jpg")).sorted().forEach(out::add);
    }
    assertThat(out).hasSizeGreaterThan(5);
    return out;
  }

  /** A seeded photo-like picture: gradients, shapes and noise (texture JPEG has to code). */
  static BufferedImage photo(int w, int h, long seed) {
    Random r = new Random(seed);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = img.createGraphics();
    g.setPaint(new GradientPaint(0, 0, new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)),
        w, h, new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256))));
    g.fillRect(0, 0, w, h);
    for (int i = 0; i < 40; i++) {
      g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
      g.fillOval(r.nextInt(w), r.nextInt(h), 10 + r.nextInt(w / 3), 10 + r.nextInt(h / 3));
    }
    g.dispose();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = img.getRGB(x, y);
        int n = r.nextInt(17) - 8;
        int cr = clamp(((rgb >> 16) & 0xff) + n);
        int cg = clamp(((rgb >> 8) & 0xff) + n);
        int cb = clamp((rgb & 0xff) + n);
        img.setRGB(x, y, (cr << 16) | (cg << 8) | cb);
      }
    }
    return img;
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }
}
