package io.semisup.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.model.ModelMetadata;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The test transform a model carries ({@link InputSpec#resizeRatio()}): resize, then centre crop. */
class TestResizeRatioTest {

  private static final InputSpec GREY = new InputSpec(20, 20, 1, new float[] {0.5f}, new float[] {0.25f});

  /** A 28x28 image: a 255 frame two pixels wide around a 0 interior. */
  private static byte[] framed() {
    byte[] p = new byte[28 * 28];
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        boolean frame = x < 2 || y < 2 || x >= 26 || y >= 26;
        p[y * 28 + x] = (byte) (frame ? 255 : 0);
      }
    }
    return p;
  }

  @Test
  void ratioOneIsThePlainResize() {
    byte[] px = new byte[28 * 28];
    new Random(7).nextBytes(px);
    assertThat(GREY.resizeRatio()).isEqualTo(1.0);
    assertThat(new Preprocessor(GREY.withResizeRatio(1)).toChw(px, 28, 28))
        .isEqualTo(new Preprocessor(GREY).toChw(px, 28, 28));
  }

  /** The crop cuts the border off: the frame seen at ratio 1 is gone at 1.25. */
  @Test
  void aRatioAboveOneKeepsTheCentreOnly() {
    float white = (1 - 0.5f) / 0.25f;
    float[] plain = new Preprocessor(GREY).toChw(framed(), 28, 28);
    float[] cropped = new Preprocessor(GREY.withResizeRatio(1.25)).toChw(framed(), 28, 28);
    assertThat(cropped).hasSize(20 * 20);
    assertThat(plain[0]).isEqualTo(white);
    float max = Float.NEGATIVE_INFINITY;
    for (float v : cropped) {
      max = Math.max(max, v);
    }
    assertThat(max).isLessThan(white / 2);
    // Exactly the centre 20x20 of the plain resize to 25x25.
    float[] big = new Preprocessor(GREY.withSize(25, 25)).toChw(framed(), 28, 28);
    for (int y = 0; y < 20; y++) {
      for (int x = 0; x < 20; x++) {
        assertThat(cropped[y * 20 + x]).isEqualTo(big[(y + 2) * 25 + x + 2]);
      }
    }
  }

  /** Decoded images (grey rasters and RGB photos) take the same transform as raw grey bytes. */
  @Test
  void everyInputPathCropsAlike() {
    byte[] px = new byte[28 * 28];
    new Random(3).nextBytes(px);
    BufferedImage grey = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    grey.getRaster().setDataElements(0, 0, 28, 28, px);
    InputSpec spec = GREY.withResizeRatio(1.143);
    assertThat(new Preprocessor(spec).toChw(grey)).isEqualTo(new Preprocessor(spec).toChw(px, 28, 28));
    InputSpec rgb = new InputSpec(16, 16, 3, new float[3], new float[] {1, 1, 1}, 1.143);
    BufferedImage bgr = new BufferedImage(28, 28, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        int v = px[y * 28 + x] & 0xff;
        bgr.setRGB(x, y, v << 16 | v << 8 | v);
      }
    }
    float[] fromBgr = new Preprocessor(rgb).toChw(bgr);
    float[] fromGrey = new Preprocessor(rgb).toChw(px, 28, 28);
    assertThat(fromBgr).isEqualTo(fromGrey);
  }

  @Test
  void theRatioTravelsInTheModelMetadataAndOldMetadataReadsAsPlain() {
    ModelMetadata m = new ModelMetadata("id", "resnet-small", List.of("a", "b"),
        GREY.withResizeRatio(1.143), 1L, Map.of());
    ModelMetadata back = ModelMetadata.fromJson(m.toJson());
    assertThat(back.input().resizeRatio()).isEqualTo(1.143);
    assertThat(back).isEqualTo(m);
    assertThat(back.input()).isNotEqualTo(GREY);
    String old = m.toJson().replaceAll(",\\s*\"resizeRatio\"\\s*:\\s*1\\.143", "");
    assertThat(old).doesNotContain("resizeRatio");
    assertThat(ModelMetadata.fromJson(old).input()).isEqualTo(GREY);
    assertThat(GREY.withResizeRatio(1.143).withSize(24, 24).resizeRatio()).isEqualTo(1.143);
  }

  @Test
  void aRatioBelowOneIsRejected() {
    assertThatThrownBy(() -> GREY.withResizeRatio(0.9)).hasMessageContaining("must be >= 1");
    assertThatThrownBy(() -> GREY.withResizeRatio(Double.NaN)).hasMessageContaining("must be >= 1");
  }
}
