package io.semisup.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RandomResizedCropTest {

  private static final InputSpec GREY = new InputSpec(28, 28, 1, new float[] {0.5f}, new float[] {0.25f});

  @Test
  void apparentObjectSizeMatchesTheAnalyticValue() {
    // FixRes' apparent size ratio: for area uniform in [a, 1], E[sqrt(area)] =
    // 2/3 (1 - a^1.5) / (1 - a) = 0.708 for a = 0.08.
    RandomResizedCrop crop = new RandomResizedCrop(0.08, 24, 24);
    Random rnd = new Random(42);
    int n = 400_000;
    double sum = 0;
    for (int i = 0; i < n; i++) {
      RandomResizedCrop.Box b = crop.sample(rnd);
      sum += Math.sqrt(b.area());
    }
    double analytic = 2.0 / 3.0 * (1 - Math.pow(0.08, 1.5)) / (1 - 0.08);
    assertEquals(0.708, analytic, 0.0005);
    assertEquals(0.708, sum / n, 0.005);
  }

  @Test
  void boxesFitTheImageWithTheirAspectInRange() {
    RandomResizedCrop crop = new RandomResizedCrop(0.08, 20, 20);
    Random rnd = new Random(7);
    for (int i = 0; i < 50_000; i++) {
      RandomResizedCrop.Box b = crop.sample(rnd);
      assertTrue(b.top() >= 0 && b.left() >= 0, b.toString());
      assertTrue(b.top() + b.height() <= 1 + 1e-12 && b.left() + b.width() <= 1 + 1e-12, b.toString());
      double aspect = b.width() / b.height();
      assertTrue(aspect >= 0.75 - 1e-9 || b.area() > 0.75 - 1e-9, b.toString());
      assertTrue(aspect <= 4.0 / 3 + 1e-9 || b.area() > 0.75 - 1e-9, b.toString());
      assertTrue(b.area() >= 0.08 - 1e-12 && b.area() <= 1 + 1e-12, b.toString());
    }
  }

  @Test
  void sameSeedSameCropAndTheTrainingResolution() {
    float[] img = ramp();
    RandomResizedCrop crop = new RandomResizedCrop(0.35, 20, 20);
    float[] a = crop.apply(img, GREY, new Random(3));
    float[] b = crop.apply(img, GREY, new Random(3));
    float[] c = crop.apply(img, GREY, new Random(4));
    assertEquals(20 * 20, a.length);
    assertArrayEquals(a, b);
    assertTrue(!java.util.Arrays.equals(a, c));
    assertEquals(new InputSpec(20, 20, 1, new float[] {0.5f}, new float[] {0.25f}), crop.outputSpec(GREY));
  }

  @Test
  void fullAreaIsAPlainResize() {
    float[] img = ramp();
    float[] same = new RandomResizedCrop(1.0, 28, 28).apply(img, GREY, new Random(1));
    assertArrayEquals(img, same, 1e-5f);
  }

  @Test
  void testTransformCropsTheCentreAfterResizing() {
    float[] img = ramp();
    assertArrayEquals(img, new ResizeCenterCrop(28, 1.0).apply(img, GREY), 1e-5f);
    // Ratio 2 at the source's size: the centre 14x14 of the image (pixels 7..20, sampled between
    // 6.75 and 20.75 with centres aligned), upsampled to 28x28.
    float[] centre = new ResizeCenterCrop(28, 2.0).apply(img, GREY);
    assertEquals(28 * 28, centre.length);
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    for (float v : centre) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assertTrue(min > img[6 * 28 + 6] && min < img[7 * 28 + 7] && max > img[20 * 28 + 20] && max < img[21 * 28 + 21], min + " " + max);
    assertEquals(32 * 32, new ResizeCenterCrop(32, 256.0 / 224).apply(img, GREY).length);
    assertThrows(IllegalArgumentException.class, () -> new ResizeCenterCrop(28, 0.9));
    assertThrows(IllegalArgumentException.class, () -> new RandomResizedCrop(0, 28, 28));
  }

  /** Values rising along rows and columns. */
  private static float[] ramp() {
    float[] img = new float[28 * 28];
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        img[y * 28 + x] = y + x / 28f;
      }
    }
    return img;
  }
}
