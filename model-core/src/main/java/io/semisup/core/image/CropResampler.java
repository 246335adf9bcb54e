package io.semisup.core.image;

/**
 * Bilinear resampling of a rectangle of a normalized CHW tensor to another size: what
 * {@link RandomResizedCrop} (training) and {@link ResizeCenterCrop} (testing) share.
 *
 * <p>Why on the normalized tensor: both transforms sit where {@link Augmenter} sits, after the
 * {@link Preprocessor}, so a decoded image is prepared once and cropped again every epoch.
 * Pixel centres are aligned ({@code src = top + (y + 0.5) * scale - 0.5}) and samples outside the
 * image are clamped to its border, as in OpenCV's and PIL's bilinear resize.
 */
final class CropResampler {

  private CropResampler() {}

  /**
   * The box {@code (top, left, height, width)} of {@code chw} (in source pixels, fractional),
   * resampled to {@code outH x outW}.
   */
  static float[] crop(float[] chw, InputSpec src, double top, double left, double height,
      double width, int outH, int outW) {
    int h = src.height();
    int w = src.width();
    int c = src.channels();
    if (chw.length != src.size()) {
      throw new IllegalArgumentException("Cannot crop a tensor of " + chw.length
          + " floats with spec " + src + " (expects " + src.size() + ")");
    }
    int[] x0 = new int[outW];
    int[] x1 = new int[outW];
    float[] fx = new float[outW];
    axis(left, width / outW, w, x0, x1, fx);
    int[] y0 = new int[outH];
    int[] y1 = new int[outH];
    float[] fy = new float[outH];
    axis(top, height / outH, h, y0, y1, fy);
    float[] out = new float[c * outH * outW];
    for (int ch = 0; ch < c; ch++) {
      int base = ch * h * w;
      int obase = ch * outH * outW;
      for (int y = 0; y < outH; y++) {
        int r0 = base + y0[y] * w;
        int r1 = base + y1[y] * w;
        float wy = fy[y];
        for (int x = 0; x < outW; x++) {
          float a = chw[r0 + x0[x]] * (1 - fx[x]) + chw[r0 + x1[x]] * fx[x];
          float b = chw[r1 + x0[x]] * (1 - fx[x]) + chw[r1 + x1[x]] * fx[x];
          out[obase + y * outW + x] = a * (1 - wy) + b * wy;
        }
      }
    }
    return out;
  }

  /** Source neighbours and weights along one axis. */
  private static void axis(double start, double scale, int n, int[] i0, int[] i1, float[] f) {
    for (int o = 0; o < i0.length; o++) {
      double s = start + (o + 0.5) * scale - 0.5;
      s = Math.max(0, Math.min(n - 1, s));
      int lo = (int) Math.floor(s);
      int hi = Math.min(n - 1, lo + 1);
      i0[o] = lo;
      i1[o] = hi;
      f[o] = (float) (s - lo);
    }
  }
}
