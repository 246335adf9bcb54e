package io.semisup.core.audit;

/**
 * A softmax (multinomial logistic regression) head on frozen features, for auditing a model whose
 * head was replaced or fine-tuned: the lower layers may still remember the suspect images while
 * the head's losses no longer show it. Trained on half of the reference set (images certainly
 * never trained on), it scores the other half and the suspect set; features the backbone learnt
 * from the suspect images make them easier to classify, so their loss is lower.
 *
 * <p>Features are standardized with the training half's mean and deviation; full-batch gradient
 * descent with L2 from zero weights, so the fit has no randomness and needs no seed.
 */
public final class LinearHead {

  /** How long and how hard the head is fitted. */
  public record Options(int iterations, double learningRate, double l2) {
    public Options {
      if (iterations < 1 || !(learningRate > 0) || l2 < 0) {
        throw new IllegalArgumentException("Cannot fit a linear head with " + iterations + " iterations,"
            + " learning rate " + learningRate + ", l2 " + l2 + ": need >= 1, > 0, >= 0");
      }
    }

    public static Options defaults() {
      return new Options(300, 0.5, 1e-4);
    }
  }

  private final double[] mean;
  private final double[] scale;
  private final double[][] weights; // [classes][features + 1], bias last

  private LinearHead(double[] mean, double[] scale, double[][] weights) {
    this.mean = mean;
    this.scale = scale;
    this.weights = weights;
  }

  public static LinearHead fit(float[][] x, int[] y, int numClasses, Options o) {
    if (x.length == 0 || x.length != y.length) {
      throw new IllegalArgumentException("Cannot fit a linear head on " + x.length + " feature rows and "
          + y.length + " labels");
    }
    int d = x[0].length;
    double[] mean = new double[d];
    double[] scale = new double[d];
    for (float[] row : x) {
      for (int j = 0; j < d; j++) {
        mean[j] += row[j];
      }
    }
    for (int j = 0; j < d; j++) {
      mean[j] /= x.length;
    }
    for (float[] row : x) {
      for (int j = 0; j < d; j++) {
        double c = row[j] - mean[j];
        scale[j] += c * c;
      }
    }
    for (int j = 0; j < d; j++) {
      double sd = Math.sqrt(scale[j] / x.length);
      scale[j] = sd > 1e-8 ? 1.0 / sd : 0.0;
    }
    double[][] z = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      z[i] = standardize(x[i], mean, scale);
    }
    double[][] w = new double[numClasses][d + 1];
    double[][] grad = new double[numClasses][d + 1];
    double[] p = new double[numClasses];
    for (int it = 0; it < o.iterations(); it++) {
      for (double[] g : grad) {
        java.util.Arrays.fill(g, 0);
      }
      for (int i = 0; i < z.length; i++) {
        softmax(w, z[i], p);
        for (int c = 0; c < numClasses; c++) {
          double err = p[c] - (y[i] == c ? 1 : 0);
          double[] g = grad[c];
          for (int j = 0; j < d; j++) {
            g[j] += err * z[i][j];
          }
          g[d] += err;
        }
      }
      for (int c = 0; c < numClasses; c++) {
        for (int j = 0; j <= d; j++) {
          double reg = j < d ? o.l2() * w[c][j] : 0;
          w[c][j] -= o.learningRate() * (grad[c][j] / z.length + reg);
        }
      }
    }
    return new LinearHead(mean, scale, w);
  }

  /** Class probabilities of one feature row. */
  public float[] probabilities(float[] features) {
    double[] p = new double[weights.length];
    softmax(weights, standardize(features, mean, scale), p);
    float[] out = new float[p.length];
    for (int c = 0; c < p.length; c++) {
      out[c] = (float) p[c];
    }
    return out;
  }

  public float[][] probabilities(float[][] features) {
    float[][] out = new float[features.length][];
    for (int i = 0; i < features.length; i++) {
      out[i] = probabilities(features[i]);
    }
    return out;
  }

  private static double[] standardize(float[] row, double[] mean, double[] scale) {
    if (row.length != mean.length) {
      throw new IllegalArgumentException("Cannot use " + row.length + " features with a head fitted on "
          + mean.length);
    }
    double[] z = new double[row.length];
    for (int j = 0; j < row.length; j++) {
      z[j] = (row[j] - mean[j]) * scale[j];
    }
    return z;
  }

  private static void softmax(double[][] w, double[] z, double[] p) {
    int d = z.length;
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < w.length; c++) {
      double s = w[c][d];
      for (int j = 0; j < d; j++) {
        s += w[c][j] * z[j];
      }
      p[c] = s;
      max = Math.max(max, s);
    }
    double sum = 0;
    for (int c = 0; c < w.length; c++) {
      p[c] = Math.exp(p[c] - max);
      sum += p[c];
    }
    for (int c = 0; c < w.length; c++) {
      p[c] /= sum;
    }
  }
}
