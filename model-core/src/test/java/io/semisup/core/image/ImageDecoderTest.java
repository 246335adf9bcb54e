package io.semisup.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {

  private final ImageDecoder decoder = new ImageDecoder(10_000_000, 50_000_000);

  static BufferedImage noise(int w, int h, int type, long seed) {
    Random rnd = new Random(seed);
    BufferedImage img = new BufferedImage(w, h, type);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rnd.nextInt());
      }
    }
    return img;
  }

  static byte[] encode(BufferedImage img, String format) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(ImageIO.write(img, format, out)).isTrue();
    return out.toByteArray();
  }

  private RejectReason reject(byte[] bytes) {
    ImageRejectedException e =
        catchThrowableOfType(() -> decoder.decode(bytes), ImageRejectedException.class);
    assertThat(e).as("should be rejected: %d bytes", bytes == null ? 0 : bytes.length).isNotNull();
    assertThat(e.getMessage()).startsWith("Cannot decode image: ");
    return e.reason();
  }

  @Test
  void decodesValidImagesWithFormatAndSize() throws Exception {
    BufferedImage img = noise(64, 48, BufferedImage.TYPE_INT_RGB, 1);
    for (String format : new String[] {"png", "jpeg", "gif", "bmp", "tiff"}) {
      DecodedImage d = decoder.decode(encode(img, format));
      assertThat(d.format()).isEqualTo(format);
      assertThat(d.width()).isEqualTo(64);
      assertThat(d.height()).isEqualTo(48);
    }
    BufferedImage grey = noise(28, 28, BufferedImage.TYPE_BYTE_GRAY, 2);
    DecodedImage d = decoder.decode(encode(grey, "png"));
    assertThat(d.image().getType()).isEqualTo(BufferedImage.TYPE_BYTE_GRAY);
    assertThat(d.image().getRaster().getSamples(0, 0, 28, 28, 0, (int[]) null))
        .isEqualTo(grey.getRaster().getSamples(0, 0, 28, 28, 0, (int[]) null));
  }

  @Test
  void emptyAndNonImages() {
    assertThat(reject(new byte[0])).isEqualTo(RejectReason.EMPTY);
    assertThat(reject(null)).isEqualTo(RejectReason.EMPTY);
    assertThat(reject("<html>404 Not Found</html>".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(RejectReason.NOT_AN_IMAGE);
    assertThat(reject(new byte[100])).isEqualTo(RejectReason.NOT_AN_IMAGE);
  }

  @Test
  void truncatedPngIsDetectedWhereverTheCutIs() throws Exception {
    byte[] png = encode(noise(64, 48, BufferedImage.TYPE_INT_RGB, 3), "png");
    // Header only, mid-data, and missing just the tail (which ImageIO decodes silently).
    for (int len : new int[] {10, 30, png.length / 2, png.length - 30, png.length - 12,
        png.length - 1}) {
      assertThat(reject(Arrays.copyOf(png, len))).as("cut at %d of %d", len, png.length)
          .isEqualTo(RejectReason.TRUNCATED);
    }
  }

  @Test
  void truncatedJpegIsDetectedAlthoughImageIoReturnsAnImage() throws Exception {
    byte[] jpeg = encode(noise(64, 48, BufferedImage.TYPE_INT_RGB, 4), "jpeg");
    for (int len : new int[] {20, jpeg.length / 10, jpeg.length / 2, jpeg.length - 2}) {
      assertThat(reject(Arrays.copyOf(jpeg, len))).as("cut at %d of %d", len, jpeg.length)
          .isEqualTo(RejectReason.TRUNCATED);
    }
  }

  @Test
  void garbageAfterAValidHeaderIsCorrupt() throws Exception {
    Random rnd = new Random(5);
    for (String format : new String[] {"png", "jpeg"}) {
      for (int trial = 0; trial < 10; trial++) {
        byte[] good = encode(noise(64, 48, BufferedImage.TYPE_INT_RGB, trial), format);
        byte[] bad = good.clone();
        // Keep the header and the end marker, scramble (part of) the middle.
        int from = good.length / 3;
        // Small damage is only reliably detectable where the format has checksums (PNG).
        int to = trial % 2 == 0 || format.equals("jpeg") ? good.length - 20 : from + 20;
        for (int i = from; i < to; i++) {
          bad[i] = (byte) rnd.nextInt();
        }
        assertThat(reject(bad)).as("%s trial %d", format, trial).isEqualTo(RejectReason.CORRUPT);
      }
    }
  }

  @Test
  void trailingBytesAfterTheEndMarkerAreAccepted() throws Exception {
    for (String format : new String[] {"png", "jpeg"}) {
      byte[] good = encode(noise(16, 16, BufferedImage.TYPE_INT_RGB, 9), format);
      byte[] padded = Arrays.copyOf(good, good.length + 37);
      assertThat(decoder.decode(padded).format()).isEqualTo(format);
    }
  }

  @Test
  void formatsOutsideTheAcceptedSetAreUnsupported() throws Exception {
    byte[] wbmp = encode(new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_BINARY), "wbmp");
    assertThat(reject(wbmp)).isEqualTo(RejectReason.UNSUPPORTED);
  }

  @Test
  void decodesConcurrently() throws Exception {
    byte[] png = encode(noise(32, 32, BufferedImage.TYPE_INT_RGB, 10), "png");
    byte[] cut = Arrays.copyOf(png, png.length / 2);
    java.util.List<Thread> threads = new java.util.ArrayList<>();
    java.util.concurrent.atomic.AtomicInteger wrong = new java.util.concurrent.atomic.AtomicInteger();
    for (int t = 0; t < 4; t++) {
      Thread th = new Thread(() -> {
        for (int i = 0; i < 50; i++) {
          try {
            decoder.decode(png);
          } catch (ImageRejectedException e) {
            wrong.incrementAndGet();
          }
          try {
            decoder.decode(cut);
            wrong.incrementAndGet();
          } catch (ImageRejectedException e) {
            if (e.reason() != RejectReason.TRUNCATED) {
              wrong.incrementAndGet();
            }
          }
        }
      });
      threads.add(th);
      th.start();
    }
    for (Thread th : threads) {
      th.join();
    }
    assertThat(wrong.get()).isZero();
  }

  @Test
  void tooManyBytesOrPixelsIsTooLarge() throws Exception {
    byte[] png = encode(noise(64, 48, BufferedImage.TYPE_INT_RGB, 7), "png");
    ImageDecoder small = new ImageDecoder(png.length - 1, 1_000_000);
    assertThat(catchThrowableOfType(() -> small.decode(png), ImageRejectedException.class)
        .reason()).isEqualTo(RejectReason.TOO_LARGE);
    ImageDecoder fewPixels = new ImageDecoder(1_000_000, 64 * 48 - 1);
    assertThat(catchThrowableOfType(() -> fewPixels.decode(png), ImageRejectedException.class)
        .reason()).isEqualTo(RejectReason.TOO_LARGE);
  }

  @Test
  void decompressionBombIsRefusedFromTheHeader() throws Exception {
    byte[] png = encode(noise(8, 8, BufferedImage.TYPE_BYTE_GRAY, 8), "png");
    // IHDR data starts at byte 16: width, height. Claim 100000 x 100000 (10^10 pixels).
    ByteBuffer buf = ByteBuffer.wrap(png);
    buf.putInt(16, 100_000).putInt(20, 100_000);
    CRC32 crc = new CRC32();
    crc.update(png, 12, 17); // chunk type + 13 data bytes
    buf.putInt(29, (int) crc.getValue());
    long start = System.nanoTime();
    ImageRejectedException e =
        catchThrowableOfType(() -> decoder.decode(png), ImageRejectedException.class);
    assertThat(e.reason()).isEqualTo(RejectReason.TOO_LARGE);
    assertThat(e.getMessage()).contains("100000x100000");
    assertThat(System.nanoTime() - start).isLessThan(1_000_000_000L);
  }

  @Test
  void contentHashIsLowercaseSha256Hex() {
    assertThat(ContentHash.of("abc".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThat(ContentHash.of(new byte[0]))
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }
}
