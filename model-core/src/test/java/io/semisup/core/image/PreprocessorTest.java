package io.semisup.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PreprocessorTest {

  private static final InputSpec GREY = new InputSpec(28, 28, 1, new float[] {0.5f},
      new float[] {0.25f});
  private static final InputSpec RGB = new InputSpec(2, 2, 3, new float[] {0.1f, 0.2f, 0.3f},
      new float[] {0.5f, 1f, 2f});

  @Test
  void greyImageIsReadFromTheRasterAndNormalized() {
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    byte[] pixels = new byte[28 * 28];
    new Random(1).nextBytes(pixels);
    img.getRaster().setDataElements(0, 0, 28, 28, pixels);
    float[] chw = new Preprocessor(GREY).toChw(img);
    assertThat(chw).hasSize(28 * 28);
    for (int i = 0; i < chw.length; i++) {
      assertThat(chw[i]).isEqualTo(((pixels[i] & 0xff) / 255f - 0.5f) / 0.25f);
    }
    assertThat(new Preprocessor(GREY).toChw(pixels, 28, 28)).isEqualTo(chw);
  }

  /** JPEGs decode to 3-byte BGR rasters, read directly: same tensor as through getRGB. */
  @Test
  void bgrRasterFastPathEqualsTheGenericPath() {
    Random rnd = new Random(3);
    BufferedImage bgr = new BufferedImage(37, 23, BufferedImage.TYPE_3BYTE_BGR);
    BufferedImage argb = new BufferedImage(37, 23, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 23; y++) {
      for (int x = 0; x < 37; x++) {
        int p = rnd.nextInt(1 << 24);
        bgr.setRGB(x, y, p);
        argb.setRGB(x, y, p);
      }
    }
    InputSpec spec = new InputSpec(16, 16, 3, new float[] {0.4f, 0.5f, 0.6f},
        new float[] {0.2f, 0.3f, 0.4f});
    Preprocessor pre = new Preprocessor(spec);
    assertThat(pre.toChw(bgr)).isEqualTo(pre.toChw(argb));
    // A subimage shares the parent's raster (translated): it must not take the fast path wrongly.
    assertThat(pre.toChw(bgr.getSubimage(3, 2, 20, 15)))
        .isEqualTo(pre.toChw(argb.getSubimage(3, 2, 20, 15)));
  }

  /**
   * JPEG-sized BGR images are resized and normalized in one pass: bit for bit the tensor of the
   * per-plane path, shrinking, enlarging, stretching one axis, and at the model's size.
   */
  @Test
  void oneResizePassFromBgrEqualsThePlanes() {
    Random rnd = new Random(5);
    InputSpec spec = new InputSpec(224, 224, 3, new float[] {0.485f, 0.456f, 0.406f},
        new float[] {0.229f, 0.224f, 0.225f});
    Preprocessor pre = new Preprocessor(spec);
    int[][] sizes = {{500, 375}, {375, 500}, {100, 80}, {224, 224}, {224, 300}, {1, 1}, {613, 2}};
    for (int[] wh : sizes) {
      BufferedImage bgr = new BufferedImage(wh[0], wh[1], BufferedImage.TYPE_3BYTE_BGR);
      BufferedImage rgb = new BufferedImage(wh[0], wh[1], BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < wh[1]; y++) {
        for (int x = 0; x < wh[0]; x++) {
          // Smooth ramps plus noise: interpolated values land between integers and at the ends.
          int r = Math.min(255, (x * 255 / Math.max(1, wh[0] - 1) + rnd.nextInt(9)));
          int g = Math.min(255, (y * 255 / Math.max(1, wh[1] - 1) + rnd.nextInt(9)));
          int p = (r << 16) | (g << 8) | rnd.nextInt(256);
          bgr.setRGB(x, y, p);
          rgb.setRGB(x, y, p);
        }
      }
      assertThat(pre.toChw(bgr)).as("%dx%d", wh[0], wh[1]).isEqualTo(pre.toChw(rgb));
    }
  }

  @Test
  void greySubimageUsesItsOwnPixels() {
    BufferedImage big = new BufferedImage(30, 30, BufferedImage.TYPE_BYTE_GRAY);
    big.getRaster().setSample(1, 1, 0, 255);
    BufferedImage sub = big.getSubimage(1, 1, 28, 28);
    float[] chw = new Preprocessor(GREY).toChw(sub);
    assertThat(chw[0]).isEqualTo((1f - 0.5f) / 0.25f);
    assertThat(chw[1]).isEqualTo((0f - 0.5f) / 0.25f);
  }

  @Test
  void rgbImageIsChwPerChannel() {
    BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
    img.setRGB(0, 0, 0xff0000);
    img.setRGB(1, 0, 0x00ff00);
    img.setRGB(0, 1, 0x0000ff);
    img.setRGB(1, 1, 0x808080);
    float[] chw = new Preprocessor(RGB).toChw(img);
    float[] mean = {0.1f, 0.2f, 0.3f};
    float[] std = {0.5f, 1f, 2f};
    int[][] expected = {{255, 0, 0, 128}, {0, 255, 0, 128}, {0, 0, 255, 128}};
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < 4; i++) {
        assertThat(chw[c * 4 + i]).isEqualTo((expected[c][i] / 255f - mean[c]) / std[c]);
      }
    }
  }

  @Test
  void colourToGreyIsLuma() {
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
    img.setRGB(0, 0, 0xff0000);
    img.setRGB(1, 0, 0xffffff);
    float[] chw = new Preprocessor(GREY).toChw(img);
    assertThat(chw[0]).isEqualTo((76 / 255f - 0.5f) / 0.25f); // 0.299 * 255 = 76.2
    assertThat(chw[1]).isEqualTo((1f - 0.5f) / 0.25f);
  }

  @Test
  void greyToRgbReplicates() {
    byte[] pixels = {0, (byte) 255, 10, 20};
    float[] chw = new Preprocessor(RGB).toChw(pixels, 2, 2);
    assertThat(chw[4 + 1]).isEqualTo((1f - 0.2f) / 1f);
    assertThat(chw[8 + 2]).isEqualTo((10 / 255f - 0.3f) / 2f);
  }

  @Test
  void resizesBilinearly() {
    InputSpec spec = new InputSpec(4, 4, 1, new float[] {0f}, new float[] {1f});
    // Constant image stays constant; a 2x2 checker becomes a smooth ramp with the same mean.
    BufferedImage flat = new BufferedImage(9, 7, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 7; y++) {
      for (int x = 0; x < 9; x++) {
        flat.getRaster().setSample(x, y, 0, 100);
      }
    }
    for (float v : new Preprocessor(spec).toChw(flat)) {
      assertThat(v).isEqualTo(100 / 255f);
    }
    float[] up = new Preprocessor(spec).toChw(new byte[] {0, (byte) 200, 0, (byte) 200}, 2, 2);
    // Row: 0, 50, 150, 200 (pixel-centre aligned, edges clamped).
    assertThat(up[0] * 255).isCloseTo(0f, within(1e-3f));
    assertThat(up[1] * 255).isCloseTo(50f, within(1e-3f));
    assertThat(up[2] * 255).isCloseTo(150f, within(1e-3f));
    assertThat(up[3] * 255).isCloseTo(200f, within(1e-3f));
  }

  @Test
  void rejectsWrongPixelCount() {
    assertThatThrownBy(() -> new Preprocessor(GREY).toChw(new byte[10], 28, 28))
        .hasMessageStartingWith("Cannot preprocess 10 grey pixels as 28x28");
  }

  @Test
  void decoderAndPreprocessorSurviveJavaSerialization() throws Exception {
    byte[] pixels = new byte[28 * 28];
    new Random(2).nextBytes(pixels);
    Preprocessor p = new Preprocessor(GREY);
    assertThat(roundTrip(p).toChw(pixels, 28, 28)).isEqualTo(p.toChw(pixels, 28, 28));
    assertThat(roundTrip(new ImageDecoder(10, 20)).maxPixels()).isEqualTo(20);
  }

  @SuppressWarnings("unchecked")
  static <T> T roundTrip(T o) throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
        new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }
}
