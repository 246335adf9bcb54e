package io.semisup.core.mkd;

/**
 * MKD written the slow and obvious way, pixel by pixel in double precision with atan2, cos and
 * sin, straight from the paper's formulas: the parity reference for {@link MkdDescriptor}.
 */
final class ReferenceMkd {

  private static final double[] THETA = {0.14343168, 0.268285, 0.21979234, 0.15838885};
  private static final double[] RHOPHI = {0.14343168, 0.268285, 0.21979234};
  private static final double[] XY = {0.38214156, 0.48090413};

  private ReferenceMkd() {}

  static double[] vonMises(double[] b, double angle) {
    int n = b.length - 1;
    double[] e = new double[2 * n + 1];
    e[0] = Math.sqrt(b[0]);
    for (int j = 1; j <= n; j++) {
      e[j] = Math.sqrt(b[j]) * Math.cos(j * angle);
      e[n + j] = Math.sqrt(b[j]) * Math.sin(j * angle);
    }
    return e;
  }

  static double at(double[] img, int r, int c) {
    r = Math.min(Math.max(r, 0), 31);
    c = Math.min(Math.max(c, 0), 31);
    return img[r * 32 + c];
  }

  static double[] describe(float[] patch) {
    double sigma = 1.4 * 32 / 64;
    double[] g = new double[5];
    double sum = 0;
    for (int i = -2; i <= 2; i++) {
      g[i + 2] = Math.exp(-i * i / (2 * sigma * sigma));
      sum += g[i + 2];
    }
    double[] img = new double[1024];
    for (int i = 0; i < 1024; i++) {
      img[i] = patch[i];
    }
    double[] smooth = new double[1024];
    for (int r = 0; r < 32; r++) {
      for (int c = 0; c < 32; c++) {
        double v = 0;
        for (int dr = -2; dr <= 2; dr++) {
          for (int dc = -2; dc <= 2; dc++) {
            v += g[dr + 2] * g[dc + 2] / (sum * sum) * at(img, r + dr, c + dc);
          }
        }
        smooth[r * 32 + c] = v;
      }
    }
    double[] polar = new double[175];
    double[] cart = new double[63];
    for (int r = 0; r < 32; r++) {
      for (int c = 0; c < 32; c++) {
        double gx = (at(smooth, r, c + 1) - at(smooth, r, c - 1)) / 2;
        double gy = (at(smooth, r + 1, c) - at(smooth, r - 1, c)) / 2;
        double mag = Math.sqrt(gx * gx + gy * gy + 1e-8);
        double weight = Math.sqrt(mag + 1e-8);
        double theta = Math.atan2(gy, gx);
        double x = -1 + 2.0 * c / 31;
        double y = -1 + 2.0 * r / 31;
        double rho = Math.sqrt(x * x + y * y);
        double phi = Math.atan2(y, x);
        double mask = Math.exp(-rho * rho / 2);
        double[] rel = vonMises(THETA, theta - phi);
        double[] abs = vonMises(THETA, theta);
        double[] ephi = vonMises(RHOPHI, phi);
        double[] erho = vonMises(RHOPHI, rho * Math.PI / Math.sqrt(2));
        double[] ex = vonMises(XY, x * Math.PI / 2);
        double[] ey = vonMises(XY, y * Math.PI / 2);
        for (int i = 0; i < 7; i++) {
          for (int a = 0; a < 5; a++) {
            for (int b = 0; b < 5; b++) {
              polar[i * 25 + a * 5 + b] += weight * rel[i] * ephi[a] * erho[b] * mask;
            }
          }
          for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
              cart[i * 9 + a * 3 + b] += weight * abs[i] * ex[a] * ey[b] * mask;
            }
          }
        }
      }
    }
    double[] out = new double[238];
    double np = norm(polar);
    double nc = norm(cart);
    for (int i = 0; i < 175; i++) {
      out[i] = polar[i] / np;
    }
    for (int i = 0; i < 63; i++) {
      out[175 + i] = cart[i] / nc;
    }
    double n = norm(out);
    for (int i = 0; i < 238; i++) {
      out[i] /= n;
    }
    return out;
  }

  private static double norm(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    return Math.sqrt(s);
  }
}
