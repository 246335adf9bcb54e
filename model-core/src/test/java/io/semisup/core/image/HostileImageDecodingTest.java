package io.semisup.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.awt.image.BufferedImage;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;

/**
 * The decoder on the images web crawls are full of: colour variants and orientation the JDK
 * gets wrong, unusual but valid encodings, bombs, and decodes that must be stopped. Each
 * decodable case checks the colours of its four quadrants, not only that an image came back.
 */
class HostileImageDecodingTest {


  private final ImageDecoder decoder = new ImageDecoder(64L << 20, 100_000_000L, 10_000);

  private DecodedImage decode(byte[] bytes) throws ImageRejectedException {
    return decodeWith(decoder, bytes);
  }

  /** How the test decodes with decoder {@code d}'s limits (a subclass runs the fast path). */
  DecodedImage decodeWith(ImageDecoder d, byte[] bytes) throws ImageRejectedException {
    return d.decode(bytes);
  }

  RejectReason reject(ImageDecoder d, byte[] bytes) {
    ImageRejectedException e = catchThrowableOfType(() -> decodeWith(d, bytes), ImageRejectedException.class);
    assertThat(e).as("should be rejected").isNotNull();
    return e.reason();
  }

  @Test
  void jpegsAreReadByTwelveMonkeys() throws Exception {
    try (ImageInputStream in = ImageIO.createImageInputStream(
        new java.io.ByteArrayInputStream(HostileImages.jpeg(HostileImages.quadrants(8, 8))))) {
      new ImageDecoder(1, 1); // its class initialisation registers the reader
      ImageReader first = ImageIO.getImageReaders(in).next();
      assertThat(first.getClass().getName()).startsWith("com.twelvemonkeys.");
    }
  }

  @Test
  void cmykAndYcckJpegsDecodeWithTheirColours() throws Exception {
    for (byte[] jpeg : new byte[][] {HostileImages.cmykJpeg(64, 64), HostileImages.ycckJpeg(64, 64)}) {
      DecodedImage d = decode(jpeg);
      assertThat(d.format()).isEqualTo("jpeg");
      assertThat(d.width()).isEqualTo(64);
      // The JDK's reader gave the grey quadrant a level of 187 instead of 128 (CMYK) and
      // inverted every colour (YCCK).
      assertThat(HostileImages.colourError(d.image(), HostileImages.QUADRANTS))
          .as("quadrant colours %s", java.util.Arrays.deepToString(HostileImages.quadrantColours(d.image())))
          .isLessThanOrEqualTo(12);
    }
  }

  @Test
  void exifOrientationSixTurnsTheImageClockwise() throws Exception {
    DecodedImage d = decode(HostileImages.exifJpeg(64, 32, 6));
    assertThat(d.width()).isEqualTo(32);
    assertThat(d.height()).isEqualTo(64);
    // Stored: red green / blue grey. Turned clockwise: blue red / grey green.
    int[][] q = HostileImages.QUADRANTS;
    assertThat(HostileImages.colourError(d.image(), new int[][] {q[2], q[0], q[3], q[1]}))
        .isLessThanOrEqualTo(12);
    assertThat(d.image().getType()).as("still the fast BGR layout").isEqualTo(BufferedImage.TYPE_3BYTE_BGR);
  }

  @Test
  void everyExifOrientationPutsTheStoredCornersWhereViewersShowThem() throws Exception {
    int[][] q = HostileImages.QUADRANTS;
    // Display quadrants (TL, TR, BL, BR) as indices of the stored ones, per orientation 1..8.
    int[][] shown = {
      {0, 1, 2, 3}, {1, 0, 3, 2}, {3, 2, 1, 0}, {2, 3, 0, 1},
      {0, 2, 1, 3}, {2, 0, 3, 1}, {3, 1, 2, 0}, {1, 3, 0, 2}
    };
    for (int o = 1; o <= 8; o++) {
      DecodedImage d = decode(HostileImages.exifJpeg(64, 32, o));
      int[] s = shown[o - 1];
      assertThat(d.width()).as("orientation %d", o).isEqualTo(o >= 5 ? 32 : 64);
      assertThat(HostileImages.colourError(d.image(), new int[][] {q[s[0]], q[s[1]], q[s[2]], q[s[3]]}))
          .as("orientation %d: %s", o, java.util.Arrays.deepToString(HostileImages.quadrantColours(d.image())))
          .isLessThanOrEqualTo(12);
    }
  }

  @Test
  void anInvalidOrientationLeavesTheImageAsStored() throws Exception {
    DecodedImage d = decode(HostileImages.exifJpeg(64, 32, 0));
    assertThat(d.width()).isEqualTo(64);
    assertThat(HostileImages.colourError(d.image(), HostileImages.QUADRANTS)).isLessThanOrEqualTo(12);
  }

  @Test
  void sixteenBitPngPaletteGifBmpAndProgressiveJpegDecodeWithTheirColours() throws Exception {
    byte[] png16 = HostileImages.png16(64, 64);
    assertThat(png16[24]).as("IHDR bit depth").isEqualTo((byte) 16);
    byte[] progressive = HostileImages.progressiveJpeg(HostileImages.quadrants(64, 64));
    assertThat(containsMarker(progressive, 0xC2)).as("SOF2: progressive").isTrue();
    Object[][] cases = {
      {"png", png16, 0},
      {"gif", HostileImages.gif(HostileImages.paletted(64, 64)), 0},
      {"bmp", HostileImages.bmp(HostileImages.quadrants(64, 64)), 0},
      {"jpeg", progressive, 12},
    };
    for (Object[] c : cases) {
      DecodedImage d = decode((byte[]) c[1]);
      assertThat(d.format()).isEqualTo(c[0]);
      assertThat(HostileImages.colourError(d.image(), HostileImages.QUADRANTS)).as("%s", c[0])
          .isLessThanOrEqualTo((int) c[2]);
    }
    // 16 bits reach the model as the 8-bit values they encode.
    DecodedImage d = decode(png16);
    byte[][] planes = Preprocessor.rgb(d.image());
    assertThat(planes[0][0] & 0xff).isEqualTo(255);
    assertThat(planes[2][63 * 64] & 0xff).isEqualTo(255);
    assertThat(planes[1][63 * 64 + 63] & 0xff).isEqualTo(128);
  }

  @Test
  void extremeShapesDecode() throws Exception {
    assertThat(decode(HostileImages.png(HostileImages.quadrants(1, 1))).width()).isEqualTo(1);
    DecodedImage wide = decode(HostileImages.png(HostileImages.quadrants(4000, 2)));
    assertThat(wide.width()).isEqualTo(4000);
    assertThat(wide.height()).isEqualTo(2);
  }

  @Test
  void aPngBombIsRefusedFromItsHeader() {
    byte[] bomb = HostileImages.pngBomb(40_000);
    assertThat(bomb.length).as("a few MB").isLessThan(4 << 20);
    assertThat(reject(decoder, bomb)).isEqualTo(RejectReason.TOO_LARGE);
  }

  @Test
  void brokenAndNonImages() {
    byte[] jpeg = HostileImages.jpeg(HostileImages.quadrants(64, 64));
    byte[] png = HostileImages.png(HostileImages.quadrants(64, 64));
    assertThat(reject(decoder, new byte[0])).isEqualTo(RejectReason.EMPTY);
    assertThat(reject(decoder, HostileImages.cut(jpeg, 0.5))).isEqualTo(RejectReason.TRUNCATED);
    assertThat(reject(decoder, HostileImages.cut(png, 0.5))).isEqualTo(RejectReason.TRUNCATED);
    assertThat(reject(decoder, HostileImages.headerOnlyPng(64, 64))).isEqualTo(RejectReason.TRUNCATED);
    assertThat(reject(decoder, HostileImages.html())).isEqualTo(RejectReason.NOT_AN_IMAGE);
    assertThat(reject(decoder, HostileImages.text())).isEqualTo(RejectReason.NOT_AN_IMAGE);
    assertThat(reject(decoder, HostileImages.randomBytes(7, 4096))).isEqualTo(RejectReason.NOT_AN_IMAGE);
  }

  @Test
  void aDecodePastItsTimeLimitStopsAndIsATimeoutForEveryFormat() {
    BufferedImage big = HostileImages.quadrants(512, 512);
    byte[][] files = {
      HostileImages.png(big), HostileImages.jpeg(big), HostileImages.progressiveJpeg(big),
      HostileImages.gif(HostileImages.paletted(512, 512)), HostileImages.bmp(big),
      HostileImages.cmykJpeg(512, 512),
    };
    for (byte[] f : files) {
      // The decoder looks at its clock when it starts and at each progress report of the
      // reader: a full decode of 512 rows reports 20 times or more.
      AtomicLong fullLooks = new AtomicLong();
      ImageDecoder patient = new ImageDecoder(64L << 20, 100_000_000L, 20).withClock(() -> {
        fullLooks.incrementAndGet();
        return 0;
      });
      assertThat(catchThrowableOfType(() -> patient.decode(f), ImageRejectedException.class)).isNull();
      assertThat(fullLooks.get()).isGreaterThan(20);
      // A clock that is past the 20 ms limit from its second look on: the reader is stopped
      // at its first report, whatever the machine's speed.
      AtomicLong looks = new AtomicLong();
      ImageDecoder limited = new ImageDecoder(64L << 20, 100_000_000L, 20)
          .withClock(() -> looks.incrementAndGet() == 1 ? 0 : 1_000_000_000L);
      ImageRejectedException e = catchThrowableOfType(() -> limited.decode(f), ImageRejectedException.class);
      assertThat(e).isNotNull();
      assertThat(e.reason()).isEqualTo(RejectReason.TIMEOUT);
      assertThat(e.detail()).contains("20 ms");
      assertThat(looks.get()).as("reports after the abort").isLessThanOrEqualTo(4);
    }
  }

  @Test
  void withoutATimeLimitTheSameClockChangesNothing() throws Exception {
    AtomicLong now = new AtomicLong();
    ImageDecoder unlimited = new ImageDecoder(64L << 20, 100_000_000L).withClock(() -> now.addAndGet(1_000_000_000L));
    assertThat(unlimited.decode(HostileImages.png(HostileImages.quadrants(512, 512))).width()).isEqualTo(512);
  }

  private static boolean containsMarker(byte[] jpeg, int marker) {
    for (int i = 0; i + 1 < jpeg.length; i++) {
      if ((jpeg[i] & 0xff) == 0xFF && (jpeg[i + 1] & 0xff) == marker) {
        return true;
      }
    }
    return false;
  }
}
