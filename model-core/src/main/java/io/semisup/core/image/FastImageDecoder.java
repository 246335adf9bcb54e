package io.semisup.core.image;

import io.semisup.core.UsageError;
import java.awt.image.BufferedImage;
import java.io.Serializable;
import java.util.Locale;
import java.util.Objects;

/**
 * Decodes with libjpeg-turbo (OpenCV) where that is safe and fast, else with {@link ImageDecoder}
 * (ImageIO + TwelveMonkeys), and decodes JPEGs directly at a reduced scale when the caller needs
 * fewer pixels.
 *
 * <p>Why: decoding and resizing a 500x375 photo through ImageIO's libjpeg (no SIMD) costs
 * several core-ms, which is what keeps a GPU from being fed (docs/scaling.md); libjpeg-turbo's
 * SIMD decoder, and its scaled decoding (1/2, 1/4, 1/8 in the DCT domain, {@link DctScale}),
 * cost a fraction of that.
 *
 * <p>The hostile-input guarantees stay: byte and pixel limits are checked from the header before
 * a pixel is decoded, and only sound baseline JPEGs ({@link JpegStructure}) take the fast path;
 * everything else, and any file libjpeg-turbo fails on, goes through {@link ImageDecoder}, which
 * gives the same verdicts and reasons as before. libjpeg-turbo cannot be stopped mid-decode, so
 * the time limit is applied after the fact: a fast decode that used more than the limit's CPU
 * time is a {@link RejectReason#TIMEOUT} all the same (progressive JPEGs, the slow kind, never
 * take the fast path). Thread-safe.
 */
public final class FastImageDecoder implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Which decoder a stage uses ({@code shard.decoder}, {@code score.decoder}). */
  public enum Kind {
    /**
     * libjpeg-turbo where its natives load and a JPEG can be decoded at a reduced DCT scale (the
     * only case it was measured faster), else ImageIO.
     */
    AUTO,
    /** libjpeg-turbo; a machine without its natives is an error. */
    OPENCV,
    /** ImageIO + TwelveMonkeys only (the decoder before libjpeg-turbo). */
    IMAGEIO;

    /** The kind named by a setting's value ({@code auto|opencv|imageio}). */
    public static Kind of(String name) {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    }

    public String settingValue() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * One decode: the (possibly reduced) upright image, and the size of the image in the file.
   *
   * @param fullWidth width of the upright image at full size
   * @param fullHeight height of the upright image at full size
   * @param reduction 1, 2, 4 or 8: how much smaller {@code image} is than the full image
   * @param fast whether libjpeg-turbo decoded it
   */
  public record Decoded(DecodedImage image, int fullWidth, int fullHeight, int reduction,
      boolean fast) {}

  private final ImageDecoder imageio;
  private final Kind kind;
  private final boolean fast;

  /**
   * @param imageio the limits, and the decoder for what the fast path does not take
   * @param kind which decoder; {@link Kind#OPENCV} on a machine without OpenCV's natives fails
   *     here with a {@link UsageError}
   */
  public FastImageDecoder(ImageDecoder imageio, Kind kind) {
    this.imageio = Objects.requireNonNull(imageio, "imageio");
    this.kind = Objects.requireNonNull(kind, "kind");
    if (kind == Kind.OPENCV && !OpenCvCodec.available()) {
      throw new UsageError("decoder = opencv, but OpenCV's natives do not load here ("
          + OpenCvCodec.unavailableReason() + "); set the decoder to auto or imageio");
    }
    this.fast = kind != Kind.IMAGEIO && OpenCvCodec.available();
  }

  public Kind kind() {
    return kind;
  }

  /** Whether JPEGs go to libjpeg-turbo (false: every image through ImageIO). */
  public boolean fast() {
    return fast;
  }

  public ImageDecoder imageio() {
    return imageio;
  }

  /** The whole image (no reduction), as {@link ImageDecoder#decode} gives it. */
  public DecodedImage decode(byte[] bytes) throws ImageRejectedException {
    return decode(bytes, 0, 0).image();
  }

  /**
   * The image at the smallest DCT scale whose upright size is at least {@code minWidth x
   * minHeight} (0 x 0: full size); ImageIO's images are always full size.
   */
  public Decoded decode(byte[] bytes, int minWidth, int minHeight) throws ImageRejectedException {
    return decode(bytes, (w, h) -> new int[] {minWidth, minHeight});
  }

  /**
   * The image at the smallest DCT scale whose longer upright side is still at least {@code
   * longSide} (and the shorter one in proportion): what a re-encode at that longest side needs.
   */
  public Decoded decodeForLongSide(byte[] bytes, int longSide) throws ImageRejectedException {
    return decode(bytes, (w, h) -> {
      double f = Math.min(1.0, longSide / (double) Math.max(w, h));
      return new int[] {(int) Math.round(w * f), (int) Math.round(h * f)};
    });
  }

  /** The minimum upright size wanted of an image whose full upright size is {@code w x h}. */
  private interface SizeWanted {
    int[] of(int w, int h);
  }

  private Decoded decode(byte[] bytes, SizeWanted wanted) throws ImageRejectedException {
    JpegStructure jpeg = fast && bytes != null && bytes.length > 0 && bytes.length <= imageio.maxBytes()
        ? JpegStructure.parse(bytes) : null;
    if (jpeg == null || (long) jpeg.width() * jpeg.height() > imageio.maxPixels()) {
      return whole(imageio.decode(bytes));
    }
    int orientation = jpeg.hasExif() ? ExifOrientation.ofJpeg(bytes) : ExifOrientation.NORMAL;
    boolean turned = orientation >= 5;
    int[] min = turned ? wanted.of(jpeg.height(), jpeg.width()) : wanted.of(jpeg.width(), jpeg.height());
    int reduction = DctScale.reduction(jpeg.width(), jpeg.height(),
        turned ? min[1] : min[0], turned ? min[0] : min[1]);
    if (kind == Kind.AUTO && reduction == 1) {
      // Measured (docs/benchmarks.md): at full size OpenCV 4.5.5's libjpeg-turbo, built without
      // its SIMD code, is no faster than ImageIO's libjpeg; only the scaled decode gains.
      return whole(imageio.decode(bytes));
    }
    long limit = imageio.timeLimitMillis() * 1_000_000L;
    DecodeDeadline.Clock clock = imageio.clock();
    long cpu0 = limit > 0 ? clock.nanos() : 0;
    BufferedImage img = OpenCvCodec.decodeJpeg(bytes, reduction);
    if (img == null || img.getWidth() != DctScale.scaled(jpeg.width(), reduction)
        || img.getHeight() != DctScale.scaled(jpeg.height(), reduction)) {
      return whole(imageio.decode(bytes)); // let the strict decoder say what is wrong
    }
    if (limit > 0 && clock.nanos() - cpu0 > limit) {
      throw new ImageRejectedException(RejectReason.TIMEOUT, "jpeg " + jpeg.width() + "x"
          + jpeg.height() + " not decoded within " + imageio.timeLimitMillis() + " ms of CPU time");
    }
    img = ExifOrientation.apply(img, orientation);
    return new Decoded(new DecodedImage(img, img.getWidth(), img.getHeight(), "jpeg"),
        turned ? jpeg.height() : jpeg.width(), turned ? jpeg.width() : jpeg.height(), reduction,
        true);
  }

  private static Decoded whole(DecodedImage d) {
    return new Decoded(d, d.width(), d.height(), 1, false);
  }
}
