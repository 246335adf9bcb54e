package io.semisup.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.awt.image.BufferedImage;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Every case of {@link HostileImageDecodingTest} again, decoded by {@link FastImageDecoder} with
 * libjpeg-turbo on: the same images decode with the same colours, the same inputs are rejected
 * for the same reasons. Plus the time limit of the fast path, which is checked after the decode.
 */
class FastHostileImageDecodingTest extends HostileImageDecodingTest {

  @Override
  DecodedImage decodeWith(ImageDecoder d, byte[] bytes) throws ImageRejectedException {
    return new FastImageDecoder(d, FastImageDecoder.Kind.OPENCV).decode(bytes);
  }

  @Test
  void plainJpegsTakeTheFastPathAndTheOthersDoNot() throws Exception {
    FastImageDecoder fast =
        new FastImageDecoder(new ImageDecoder(64L << 20, 100_000_000L), FastImageDecoder.Kind.OPENCV);
    BufferedImage q = HostileImages.quadrants(64, 64);
    assertThat(fast.decode(HostileImages.jpeg(q), 0, 0).fast()).isTrue();
    assertThat(fast.decode(HostileImages.exifJpeg(64, 32, 6), 0, 0).fast()).isTrue();
    assertThat(fast.decode(HostileImages.progressiveJpeg(q), 0, 0).fast()).isFalse();
    assertThat(fast.decode(HostileImages.cmykJpeg(64, 64), 0, 0).fast()).isFalse();
    assertThat(fast.decode(HostileImages.png(q), 0, 0).fast()).isFalse();
  }

  @Test
  void aFastDecodePastItsTimeLimitIsATimeout() {
    byte[] jpeg = HostileImages.jpeg(HostileImages.quadrants(512, 512));
    ImageDecoder patient = new ImageDecoder(64L << 20, 100_000_000L, 20).withClock(() -> 0);
    assertThat(catchThrowableOfType(
        () -> decodeWith(patient, jpeg), ImageRejectedException.class)).isNull();
    AtomicLong looks = new AtomicLong();
    ImageDecoder limited = new ImageDecoder(64L << 20, 100_000_000L, 20)
        .withClock(() -> looks.incrementAndGet() == 1 ? 0 : 1_000_000_000L);
    ImageRejectedException e =
        catchThrowableOfType(() -> decodeWith(limited, jpeg), ImageRejectedException.class);
    assertThat(e).isNotNull();
    assertThat(e.reason()).isEqualTo(RejectReason.TIMEOUT);
    assertThat(e.detail()).contains("20 ms");
  }

  @Test
  void pixelLimitsAreCheckedFromTheHeaderBeforeLibjpegSeesTheFile() {
    byte[] jpeg = HostileImages.jpeg(HostileImages.quadrants(512, 512));
    ImageDecoder small = new ImageDecoder(64L << 20, 512L * 511);
    assertThat(reject(small, jpeg)).isEqualTo(RejectReason.TOO_LARGE);
    assertThat(reject(new ImageDecoder(jpeg.length - 1, 100_000_000L), jpeg))
        .isEqualTo(RejectReason.TOO_LARGE);
  }
}
