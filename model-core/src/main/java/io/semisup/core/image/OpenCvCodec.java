package io.semisup.core.image;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * The native calls of the fast path: OpenCV's {@code imdecode}/{@code imencode} (libjpeg-turbo,
 * SIMD) and {@code resize}, through the JavaCPP build that shares ND4J's JavaCPP. Pixels cross
 * into Java once, as the interleaved BGR bytes of a {@code TYPE_3BYTE_BGR} image, which is what
 * {@link Preprocessor} reads fastest. Every native buffer lives in a {@link PointerScope} and is
 * freed before a call returns. Thread-safe (OpenCV's codecs are reentrant).
 */
public final class OpenCvCodec {

  private static final Availability AVAILABILITY = load();

  private OpenCvCodec() {}

  /** Whether OpenCV's natives loaded on this machine. */
  public static boolean available() {
    return AVAILABILITY.error == null;
  }

  /** Why the natives did not load, or null when they did. */
  public static String unavailableReason() {
    return AVAILABILITY.error;
  }

  /**
   * The JPEG decoded at 1/{@code reduction} of its size (1, 2, 4 or 8) as stored (EXIF
   * orientation ignored: the caller applies it), BGR; null when libjpeg failed.
   */
  static BufferedImage decodeJpeg(byte[] jpeg, int reduction) {
    int flags = switch (reduction) {
      case 1 -> opencv_imgcodecs.IMREAD_COLOR;
      case 2 -> opencv_imgcodecs.IMREAD_REDUCED_COLOR_2;
      case 4 -> opencv_imgcodecs.IMREAD_REDUCED_COLOR_4;
      case 8 -> opencv_imgcodecs.IMREAD_REDUCED_COLOR_8;
      default -> throw new IllegalArgumentException("No DCT reduction 1/" + reduction);
    } | opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION;
    try (PointerScope scope = new PointerScope()) {
      Mat buf = new Mat(1, jpeg.length, CV_8UC1);
      buf.data().put(jpeg, 0, jpeg.length);
      Mat m = opencv_imgcodecs.imdecode(buf, flags);
      if (m == null || m.empty() || m.type() != CV_8UC3) {
        return null;
      }
      return toImage(m);
    }
  }

  /**
   * A JPEG of the BGR image resized to {@code width x height} (area averaging when shrinking),
   * at {@code quality} (1-100).
   */
  static byte[] resizeToJpeg(BufferedImage bgr, int width, int height, int quality) {
    try (PointerScope scope = new PointerScope()) {
      Mat src = toMat(bgr);
      Mat dst = src;
      if (width != bgr.getWidth() || height != bgr.getHeight()) {
        dst = new Mat();
        opencv_imgproc.resize(src, dst, new Size(width, height), 0, 0,
            width < bgr.getWidth() ? opencv_imgproc.INTER_AREA : opencv_imgproc.INTER_LINEAR);
      }
      BytePointer out = new BytePointer();
      IntPointer params = new IntPointer(opencv_imgcodecs.IMWRITE_JPEG_QUALITY, quality);
      if (!opencv_imgcodecs.imencode(".jpg", dst, out, params)) {
        throw new IllegalStateException("OpenCV could not encode a " + width + "x" + height + " JPEG");
      }
      byte[] bytes = new byte[(int) out.limit()];
      out.get(bytes);
      return bytes;
    }
  }

  private static BufferedImage toImage(Mat m) {
    BufferedImage img = new BufferedImage(m.cols(), m.rows(), BufferedImage.TYPE_3BYTE_BGR);
    byte[] px = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
    if (m.isContinuous()) {
      m.data().get(px, 0, px.length);
    } else {
      int row = m.cols() * 3;
      for (int y = 0; y < m.rows(); y++) {
        m.ptr(y).get(px, y * row, row);
      }
    }
    return img;
  }

  private static Mat toMat(BufferedImage bgr) {
    if (bgr.getType() != BufferedImage.TYPE_3BYTE_BGR) {
      throw new IllegalArgumentException("Expected a TYPE_3BYTE_BGR image, got type " + bgr.getType());
    }
    byte[] px = ((DataBufferByte) bgr.getRaster().getDataBuffer()).getData();
    Mat m = new Mat(bgr.getHeight(), bgr.getWidth(), CV_8UC3);
    m.data().put(px, 0, bgr.getWidth() * bgr.getHeight() * 3);
    return m;
  }

  private record Availability(String error) {}

  private static Availability load() {
    try {
      Loader.load(opencv_imgcodecs.class);
      Loader.load(opencv_imgproc.class);
      // Sequential: parallelism comes from Spark's one task per core, and OpenCV's pool busy-waits
      // for its workers, which on a loaded machine burns CPU time on every resize.
      opencv_core.setNumThreads(0);
      return new Availability(null);
    } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError: no natives for this platform
      return new Availability(t.getClass().getSimpleName() + ": " + t.getMessage());
    }
  }
}
