package io.semisup.core.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The FixRes fix (Touvron et al. 2019, arXiv:1906.06423): a model trained at one resolution is
 * adapted to a higher test resolution by changing only what the resolution shift breaks.
 *
 * <p>Why these parameters: a larger test image makes objects look larger, which shifts the
 * statistics of the activations before global average pooling; the batch-norm layer(s) feeding
 * the pooling no longer normalize them, and the classifier sees features off its training
 * distribution. So: every parameter is frozen except (1) the running mean and variance of the
 * batch-norm layers whose output reaches the global pooling through parameter-free vertices
 * (activations and the last residual add; the shortcut's BN too when it is a projection),
 * re-estimated exactly over the given images at the test resolution, and (2) the classifier (the
 * output layer), trained by SGD with momentum on the pooled features of those images.
 *
 * <p>Because nothing before the classifier trains and the images go through the deterministic test
 * transform, the pooled features of each image are fixed once the statistics are re-estimated; the
 * classifier is trained on them directly, which is what training the frozen network would compute,
 * at the cost of one forward pass per image. Everything else is bit-identical to the input model.
 */
public final class FixResRefit {

  /**
   * The classifier's SGD (the official code: lr 1e-3 scaled by batch / 512, momentum 0.9,
   * weight decay 1e-4).
   *
   * @param epochs passes over the images (0: only the statistics are re-estimated)
   * @param batchSize minibatch size
   * @param learningRatePer512 learning rate at batch 512, scaled linearly with the batch
   * @param momentum heavy-ball momentum
   * @param weightDecay L2 on the classifier's weights (not its bias)
   * @param seed shuffling
   */
  public record Recipe(int epochs, int batchSize, double learningRatePer512, double momentum,
      double weightDecay, long seed) {

    public Recipe {
      if (epochs < 0 || batchSize < 1 || !(learningRatePer512 > 0) || momentum < 0 || momentum >= 1
          || weightDecay < 0) {
        throw new IllegalArgumentException("Cannot refit the classifier with " + this);
      }
    }

    /** The official recipe: 1e-3 at batch 512, momentum 0.9, weight decay 1e-4. */
    public static Recipe official(int epochs, int batchSize, long seed) {
      return new Recipe(epochs, batchSize, 1e-3, 0.9, 1e-4, seed);
    }

    public double learningRate() {
      return learningRatePer512 * batchSize / 512.0;
    }
  }

  /** What changed: the batch-norm layers re-estimated and the classifier's loss per epoch. */
  public record Report(List<String> batchNormLayers, String classifier, double[] epochLoss) {}

  private static final int BATCH = 256;

  private final ComputationGraph graph;
  private final List<String> batchNorms;
  private final String pooling;
  private final String classifier;

  /** Works on a copy of {@code model}; the input graph is never changed. */
  public FixResRefit(ComputationGraph model) {
    this.graph = model.clone();
    ComputationGraphConfiguration conf = graph.getConfiguration();
    this.classifier = single(conf, OutputLayer.class, "output layer");
    this.pooling = single(conf, GlobalPoolingLayer.class, "global pooling layer");
    this.batchNorms = batchNormsFeeding(conf, pooling);
    if (batchNorms.isEmpty()) {
      throw new IllegalArgumentException("Cannot apply FixRes: no batch-norm layer feeds the global"
          + " pooling '" + pooling + "' (a BN-free network has no statistics to fix)");
    }
  }

  /** The batch-norm layers whose statistics are re-estimated. */
  public List<String> batchNormLayers() {
    return batchNorms;
  }

  public String classifierLayer() {
    return classifier;
  }

  /**
   * Re-estimates the statistics and refits the classifier on {@code x} (images at the test
   * resolution, as the test transform prepares them; NCHW {@code shape} per image) with labels
   * {@code y}.
   *
   * @return the fixed graph (a new instance)
   */
  public ComputationGraph fix(float[][] x, int[] y, long[] shape, Recipe recipe, List<Report> report) {
    if (x.length != y.length || x.length < 2) {
      throw new IllegalArgumentException("Cannot apply FixRes on " + x.length + " images with "
          + y.length + " labels: need at least 2, one label each");
    }
    reestimate(x, shape);
    double[] loss = refitClassifier(pooledFeatures(x, shape), y, recipe);
    if (report != null) {
      report.add(new Report(batchNorms, classifier, loss));
    }
    return graph;
  }

  /** Exact per-channel mean and (population) variance of each BN's input over all images. */
  private void reestimate(float[][] x, long[] shape) {
    ComputationGraphConfiguration conf = graph.getConfiguration();
    int n = batchNorms.size();
    double[][] sum = new double[n][];
    double[][] sumSq = new double[n][];
    long[] count = new long[n];
    for (int start = 0; start < x.length; start += BATCH) {
      try (INDArray in = batch(x, start, shape)) {
        Map<String, INDArray> acts = graph.feedForward(in, false);
        for (int k = 0; k < n; k++) {
          String input = conf.getVertexInputs().get(batchNorms.get(k)).get(0);
          INDArray a = acts.get(input);
          int c = (int) a.size(1);
          if (sum[k] == null) {
            sum[k] = new double[c];
            sumSq[k] = new double[c];
          }
          float[] v = a.dup('c').data().asFloat();
          int per = (int) (a.length() / a.size(0) / c);
          for (int i = 0; i < a.size(0); i++) {
            for (int ch = 0; ch < c; ch++) {
              int base = (int) ((i * c + ch) * (long) per);
              double s = 0;
              double s2 = 0;
              for (int p = 0; p < per; p++) {
                double f = v[base + p];
                s += f;
                s2 += f * f;
              }
              sum[k][ch] += s;
              sumSq[k][ch] += s2;
            }
          }
          count[k] += a.size(0) * (long) per;
        }
      }
    }
    for (int k = 0; k < n; k++) {
      org.deeplearning4j.nn.api.Layer layer = graph.getLayer(batchNorms.get(k));
      BatchNormalization bn = (BatchNormalization) layer.conf().getLayer();
      int c = sum[k].length;
      float[] mean = new float[c];
      float[] second = new float[c];
      for (int ch = 0; ch < c; ch++) {
        double m = sum[k][ch] / count[k];
        double var = Math.max(0, sumSq[k][ch] / count[k] - m * m);
        mean[ch] = (float) m;
        second[ch] = bn.isUseLogStd()
            ? (float) (0.5 * Math.log10(var + bn.getEps()))
            : (float) var;
      }
      INDArray meanParam = layer.getParam("mean");
      meanParam.assign(Nd4j.createFromArray(mean).reshape(meanParam.shape()));
      String key = bn.isUseLogStd() ? "log10stdev" : "var";
      INDArray secondParam = layer.getParam(key);
      secondParam.assign(Nd4j.createFromArray(second).reshape(secondParam.shape()));
    }
  }

  private float[][] pooledFeatures(float[][] x, long[] shape) {
    float[][] out = new float[x.length][];
    for (int start = 0; start < x.length; start += BATCH) {
      try (INDArray in = batch(x, start, shape)) {
        INDArray f = graph.feedForward(in, false).get(pooling);
        for (int i = 0; i < f.size(0); i++) {
          out[start + i] = f.getRow(i).dup().data().asFloat();
        }
      }
    }
    return out;
  }

  /** Softmax regression by SGD with momentum, starting from the model's classifier. */
  private double[] refitClassifier(float[][] f, int[] y, Recipe r) {
    org.deeplearning4j.nn.api.Layer out = graph.getLayer(classifier);
    INDArray wParam = out.getParam("W");
    INDArray bParam = out.getParam("b");
    int d = (int) wParam.size(0);
    int k = (int) wParam.size(1);
    double[][] w = wParam.toDoubleMatrix();
    double[] b = bParam.toDoubleVector();
    double[][] vw = new double[d][k];
    double[] vb = new double[k];
    double lr = r.learningRate();
    int[] order = new int[f.length];
    Arrays.setAll(order, i -> i);
    Random rnd = new Random(r.seed());
    double[] losses = new double[r.epochs()];
    double[] logits = new double[k];
    for (int e = 0; e < r.epochs(); e++) {
      Shuffle.permutation(order, rnd);
      double lossSum = 0;
      for (int start = 0; start < f.length; start += r.batchSize()) {
        int m = Math.min(r.batchSize(), f.length - start);
        double[][] gw = new double[d][k];
        double[] gb = new double[k];
        for (int s = 0; s < m; s++) {
          float[] xi = f[order[start + s]];
          int yi = y[order[start + s]];
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < k; j++) {
            double z = b[j];
            for (int i = 0; i < d; i++) {
              z += xi[i] * w[i][j];
            }
            logits[j] = z;
            max = Math.max(max, z);
          }
          double norm = 0;
          for (int j = 0; j < k; j++) {
            logits[j] = Math.exp(logits[j] - max);
            norm += logits[j];
          }
          lossSum -= Math.log(logits[yi] / norm);
          for (int j = 0; j < k; j++) {
            double g = logits[j] / norm - (j == yi ? 1 : 0);
            gb[j] += g / m;
            for (int i = 0; i < d; i++) {
              gw[i][j] += g * xi[i] / m;
            }
          }
        }
        for (int j = 0; j < k; j++) {
          vb[j] = r.momentum() * vb[j] + gb[j];
          b[j] -= lr * vb[j];
          for (int i = 0; i < d; i++) {
            vw[i][j] = r.momentum() * vw[i][j] + gw[i][j] + r.weightDecay() * w[i][j];
            w[i][j] -= lr * vw[i][j];
          }
        }
      }
      losses[e] = lossSum / f.length;
    }
    if (r.epochs() > 0) {
      wParam.assign(Nd4j.create(w).castTo(wParam.dataType()));
      bParam.assign(Nd4j.createFromArray(b).castTo(bParam.dataType()).reshape(bParam.shape()));
    }
    return losses;
  }

  private static INDArray batch(float[][] x, int start, long[] shape) {
    int m = Math.min(BATCH, x.length - start);
    int size = x[start].length;
    float[] flat = new float[m * size];
    for (int i = 0; i < m; i++) {
      System.arraycopy(x[start + i], 0, flat, i * size, size);
    }
    return Nd4j.create(flat, new long[] {m, shape[0], shape[1], shape[2]}, 'c');
  }

  /** The one layer vertex of a type, by name. */
  private static String single(ComputationGraphConfiguration conf, Class<? extends Layer> type, String what) {
    List<String> found = new ArrayList<>();
    for (Map.Entry<String, GraphVertex> v : conf.getVertices().entrySet()) {
      if (v.getValue() instanceof LayerVertex lv && type.isInstance(lv.getLayerConf().getLayer())) {
        found.add(v.getKey());
      }
    }
    if (found.size() != 1) {
      throw new IllegalArgumentException("Cannot apply FixRes: the model has " + found.size() + " "
          + what + "s " + found + ", FixRes needs exactly one");
    }
    return found.get(0);
  }

  /**
   * The BN layers reaching {@code pooling} through activation layers and at most one residual add
   * (the last block's; a shortcut that is itself another block's output is not followed).
   */
  static List<String> batchNormsFeeding(ComputationGraphConfiguration conf, String pooling) {
    List<String> found = new ArrayList<>();
    walk(conf, conf.getVertexInputs().get(pooling), 0, found);
    return found;
  }

  private static void walk(ComputationGraphConfiguration conf, List<String> inputs, int adds,
      List<String> found) {
    if (inputs == null) {
      return;
    }
    for (String name : inputs) {
      GraphVertex v = conf.getVertices().get(name);
      if (v instanceof LayerVertex lv) {
        Layer l = lv.getLayerConf().getLayer();
        if (l instanceof BatchNormalization) {
          if (!found.contains(name)) {
            found.add(name);
          }
        } else if (l instanceof ActivationLayer) {
          walk(conf, conf.getVertexInputs().get(name), adds, found);
        }
      } else if (v instanceof ElementWiseVertex && adds == 0) {
        walk(conf, conf.getVertexInputs().get(name), adds + 1, found);
      }
    }
  }
}
