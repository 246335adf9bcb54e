package io.semisup.core.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Turns untrusted bytes into an image or a classified reject. Web-scale inputs contain empty
 * files, HTML error pages, partial downloads and decompression bombs; ImageIO alone returns
 * partly grey images for truncated files and allocates whatever a header claims, so this class
 * checks sizes from the header before decoding pixels and treats decoder warnings as rejects.
 *
 * <p>Strict by design: a JPEG the decoder had to patch up (warnings) is rejected, since a clean
 * copy of the same image usually exists elsewhere and a damaged one would poison training.
 * Thread-safe: holds only its limits; every call uses its own reader.
 *
 * <p>JPEGs go through TwelveMonkeys' reader: the JDK's decodes CMYK and YCCK JPEGs (print and
 * stock photos) with wrong colours and no warning. The EXIF orientation of a JPEG is applied, so
 * the pixels are upright as a viewer shows them, and width/height are those of the upright image.
 * An optional time limit (CPU time of the decoding thread, {@link DecodeDeadline}) turns a
 * decode that would take too long into a {@link RejectReason#TIMEOUT} instead of a stalled task.
 */
public final class ImageDecoder implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Formats decoded; others ImageIO recognises (e.g. WBMP, which matches many byte strings)
   * are refused as UNSUPPORTED. */
  private static final Set<String> FORMATS = Set.of("png", "jpeg", "gif", "bmp", "tiff");

  private static final byte[] PNG_SIGNATURE =
      {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /**
   * Warnings that do not mean damaged data. TwelveMonkeys says this of every CMYK/YCCK JPEG
   * without an ICC profile: it then converts with a generic CMYK profile, whose colours are
   * right to within what any viewer without a profile shows. It also says that it reads an
   * embedded Perceptual-class profile (as in some camera and stock photos) as a Display profile:
   * the colours are converted all the same and the data is intact, so such a photo is kept.
   */
  private static final List<String> BENIGN_WARNINGS =
      List.of("No embedded ICC color profile, will convert using inaccurate CMYK to RGB conversion",
          "ICC profile is Perceptual, ignoring, treating as Display class");

  static {
    // Registered here, not only through META-INF/services: a plug-in found by another class
    // loader (Spark's) would leave JPEGs to the JDK reader, whose CMYK colours are wrong.
    // Registration orders it before the JDK's JPEG reader.
    IIORegistry.getDefaultInstance()
        .registerServiceProvider(new com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi());
  }

  private final long maxBytes;
  private final long maxPixels;
  private final long timeLimitNanos;
  private transient DecodeDeadline.Clock clock;

  /** A decoder without a time limit (for images an earlier decode with a limit accepted). */
  public ImageDecoder(long maxBytes, long maxPixels) {
    this(maxBytes, maxPixels, 0);
  }

  /**
   * @param timeLimitMillis CPU milliseconds one decode may take before it is rejected as
   *     {@link RejectReason#TIMEOUT}; 0 for no limit
   */
  public ImageDecoder(long maxBytes, long maxPixels, long timeLimitMillis) {
    if (maxBytes <= 0 || maxPixels <= 0 || timeLimitMillis < 0) {
      throw new IllegalArgumentException(
          "Cannot create image decoder with maxBytes=" + maxBytes + ", maxPixels=" + maxPixels
              + ", timeLimitMillis=" + timeLimitMillis
              + ": the sizes must be positive and the time limit 0 (none) or more");
    }
    this.maxBytes = maxBytes;
    this.maxPixels = maxPixels;
    this.timeLimitNanos = timeLimitMillis * 1_000_000L;
  }

  /** The same limits, timed by {@code clock} (tests make deadlines deterministic with it). */
  ImageDecoder withClock(DecodeDeadline.Clock clock) {
    ImageDecoder d = new ImageDecoder(maxBytes, maxPixels, timeLimitNanos / 1_000_000L);
    d.clock = clock;
    return d;
  }

  /** The clock its time limit is measured by (the thread's CPU time unless a test set one). */
  DecodeDeadline.Clock clock() {
    return clock == null ? DecodeDeadline.THREAD_CPU : clock;
  }

  /** The time limit in CPU milliseconds, 0 for none. */
  public long timeLimitMillis() {
    return timeLimitNanos / 1_000_000L;
  }

  public long maxBytes() {
    return maxBytes;
  }

  public long maxPixels() {
    return maxPixels;
  }

  /** Decodes the first image of the bytes, or says why it cannot. */
  public DecodedImage decode(byte[] bytes) throws ImageRejectedException {
    if (bytes == null || bytes.length == 0) {
      throw new ImageRejectedException(RejectReason.EMPTY, "0 bytes");
    }
    if (bytes.length > maxBytes) {
      throw new ImageRejectedException(
          RejectReason.TOO_LARGE, bytes.length + " bytes > maxBytes " + maxBytes);
    }
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new ImageRejectedException(
            RejectReason.NOT_AN_IMAGE, "starts with " + describeStart(bytes));
      }
      ImageReader reader = readers.next();
      try {
        return decode(bytes, in, reader);
      } finally {
        reader.dispose();
      }
    } catch (IOException e) {
      // Only close() of an in-memory stream can get here.
      throw new ImageRejectedException(RejectReason.CORRUPT, e.toString(), e);
    }
  }

  private DecodedImage decode(byte[] bytes, ImageInputStream in, ImageReader reader)
      throws ImageRejectedException {
    DecodeDeadline deadline =
        DecodeDeadline.start(clock == null ? DecodeDeadline.THREAD_CPU : clock, timeLimitNanos);
    String format = normalizeFormat(reader);
    if (!FORMATS.contains(format)) {
      throw new ImageRejectedException(
          RejectReason.UNSUPPORTED, "format " + format + " is not accepted");
    }
    reader.setInput(in, true, true);
    List<String> warnings = new ArrayList<>();
    reader.addIIOReadWarningListener((source, warning) -> {
      if (BENIGN_WARNINGS.stream().noneMatch(warning::startsWith)) {
        warnings.add(warning);
      }
    });
    reader.addIIOReadProgressListener(deadline);

    int width;
    int height;
    try {
      width = reader.getWidth(0);
      height = reader.getHeight(0);
    } catch (Exception e) {
      throw classify(format, bytes, e, "reading the " + format + " header");
    }
    if (width <= 0 || height <= 0) {
      throw new ImageRejectedException(
          RejectReason.CORRUPT, format + " header says " + width + "x" + height);
    }
    if ((long) width * height > maxPixels) {
      throw new ImageRejectedException(RejectReason.TOO_LARGE,
          format + " header says " + width + "x" + height + " = " + (long) width * height
              + " pixels > maxPixels " + maxPixels);
    }

    if (format.equals("png")) {
      // Before decoding: the JDK reader ignores CRCs and stops once it has all rows, so damaged
      // data or a missing tail would otherwise pass silently.
      PngStructure structure = pngStructure(bytes);
      if (structure == PngStructure.CUT) {
        throw new ImageRejectedException(RejectReason.TRUNCATED, "png ends before its IEND chunk");
      }
      if (structure == PngStructure.BAD_CRC) {
        throw new ImageRejectedException(RejectReason.CORRUPT, "png chunk CRC mismatch");
      }
    }

    BufferedImage image;
    try {
      image = reader.read(0);
    } catch (Exception e) {
      if (deadline.expired()) {
        throw timeout(format, width, height, deadline);
      }
      String during = "decoding " + format + " pixels"
          + (warnings.isEmpty() ? "" : " after warnings: " + String.join("; ", warnings));
      throw classify(format, bytes, e, during);
    }
    // An aborted reader returns what it has so far: never pass that on.
    if (deadline.expired()) {
      throw timeout(format, width, height, deadline);
    }
    if (!warnings.isEmpty()) {
      String all = String.join("; ", warnings);
      throw new ImageRejectedException(
          looksCut(format, bytes, warnsOfCut(all)) ? RejectReason.TRUNCATED : RejectReason.CORRUPT,
          format + " decoder warned: " + all);
    }
    if (image.getWidth() != width || image.getHeight() != height) {
      throw new ImageRejectedException(RejectReason.CORRUPT,
          format + " header says " + width + "x" + height + " but pixels are "
              + image.getWidth() + "x" + image.getHeight());
    }
    if (format.equals("jpeg")) {
      image = ExifOrientation.apply(image, ExifOrientation.ofJpeg(bytes));
    }
    return new DecodedImage(image, image.getWidth(), image.getHeight(), format);
  }

  private static ImageRejectedException timeout(
      String format, int width, int height, DecodeDeadline deadline) {
    return new ImageRejectedException(RejectReason.TIMEOUT,
        format + " " + width + "x" + height + " not decoded within " + deadline.limitMillis()
            + " ms of CPU time");
  }

  private static ImageRejectedException classify(
      String format, byte[] bytes, Exception e, String during) {
    String detail = format + " decoder failed " + during + ": " + messages(e);
    String lower = detail.toLowerCase(Locale.ROOT);
    if (looksCut(format, bytes, hasEof(e))) {
      return new ImageRejectedException(RejectReason.TRUNCATED, detail, e);
    }
    if (lower.contains("unsupported image type")
        || (lower.contains("unsupported") && lower.contains("compression"))) {
      return new ImageRejectedException(RejectReason.UNSUPPORTED, detail, e);
    }
    return new ImageRejectedException(RejectReason.CORRUPT, detail, e);
  }

  /**
   * The JPEG reader's warnings for running out of bytes. ("Corrupt JPEG data: premature end of
   * data segment" is NOT one: libjpeg says it whenever a marker interrupts the data, e.g. in
   * garbage.)
   */
  private static boolean warnsOfCut(String warnings) {
    String w = warnings.toLowerCase(Locale.ROOT);
    return w.contains("truncated file") || w.contains("premature end of jpeg file");
  }

  private static boolean hasEof(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof EOFException) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }

  private static String messages(Throwable t) {
    StringBuilder sb = new StringBuilder();
    int depth = 0;
    for (Throwable c = t; c != null && depth < 5; c = c.getCause(), depth++) {
      if (sb.length() > 0) {
        sb.append(" <- ");
      }
      sb.append(c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage());
    }
    return sb.toString();
  }

  /**
   * Whether a failed or patched-up decode is due to missing bytes. Formats with an end marker
   * decide by it: decoders also report "end of data" or "missing EOI" when garbage derails
   * them, so a file that still ends properly is corrupt, not cut. Other formats trust the
   * decoder's hint.
   */
  private static boolean looksCut(String format, byte[] b, boolean decoderHint) {
    int n = b.length;
    switch (format) {
      case "png":
        return pngStructure(b) == PngStructure.CUT;
      case "jpeg":
        return n < 2 || b[n - 2] != (byte) 0xFF || b[n - 1] != (byte) 0xD9;
      case "gif":
        return b[n - 1] != 0x3B;
      default:
        return decoderHint;
    }
  }

  private static final byte[] PNG_IEND =
      {0, 0, 0, 0, 'I', 'E', 'N', 'D', (byte) 0xAE, 0x42, 0x60, (byte) 0x82};

  /** What a walk over a PNG's chunks found. */
  enum PngStructure { COMPLETE, CUT, BAD_CRC }

  /**
   * Walks the PNG chunks verifying each CRC (the JDK reader ignores them, so damaged data can
   * otherwise decode silently), up to IEND. Bytes after IEND are allowed.
   */
  static PngStructure pngStructure(byte[] b) {
    CRC32 crc = new CRC32();
    long pos = PNG_SIGNATURE.length;
    while (pos + 12 <= b.length) {
      int p = (int) pos;
      long length = ((b[p] & 0xffL) << 24) | ((b[p + 1] & 0xff) << 16)
          | ((b[p + 2] & 0xff) << 8) | (b[p + 3] & 0xff);
      if (pos + 12 + length > b.length) {
        break;
      }
      crc.reset();
      crc.update(b, p + 4, (int) length + 4);
      int at = p + 8 + (int) length;
      long stored = ((b[at] & 0xffL) << 24) | ((b[at + 1] & 0xff) << 16)
          | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
      if (crc.getValue() != stored) {
        return PngStructure.BAD_CRC;
      }
      if (b[p + 4] == 'I' && b[p + 5] == 'E' && b[p + 6] == 'N' && b[p + 7] == 'D') {
        return PngStructure.COMPLETE;
      }
      pos += 12 + length;
    }
    // Ran off the end: a cut, unless the file still ends with IEND (then a length was garbled).
    boolean endsWithIend = b.length >= PNG_SIGNATURE.length + PNG_IEND.length
        && Arrays.equals(b, b.length - PNG_IEND.length, b.length, PNG_IEND, 0, PNG_IEND.length);
    return endsWithIend ? PngStructure.BAD_CRC : PngStructure.CUT;
  }

  private static String normalizeFormat(ImageReader reader) {
    String name;
    try {
      name = reader.getFormatName().toLowerCase(Locale.ROOT);
    } catch (IOException e) {
      name = reader.getOriginatingProvider() == null
          ? "unknown"
          : reader.getOriginatingProvider().getFormatNames()[0].toLowerCase(Locale.ROOT);
    }
    switch (name) {
      case "jpg":
        return "jpeg";
      case "tif":
        return "tiff";
      default:
        return name;
    }
  }

  private static String describeStart(byte[] b) {
    StringBuilder sb = new StringBuilder();
    int n = Math.min(8, b.length);
    for (int i = 0; i < n; i++) {
      sb.append(String.format("%02x", b[i] & 0xff));
    }
    return "0x" + sb + (b.length > n ? "..." : "") + " (" + b.length + " bytes)";
  }
}
