package io.semisup.core.train;

import io.semisup.core.dl4j.TrainingKernels;
import io.semisup.core.enorm.EquiNormalizer;
import io.semisup.core.image.Augmenter;
import io.semisup.core.image.InputSpec;
import io.semisup.core.image.RandomResizedCrop;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Single-JVM training and evaluation over in-memory CHW tensors.
 *
 * <p>Why: tests, experiments and the recipe search need the method's training steps without
 * Spark; this loop does what the Spark trainer does per partition (seeded per-epoch shuffle,
 * seeded augmentation, label smoothing on the targets, the config's LR schedule installed in the
 * updater) so that results found here carry over.
 */
public final class LocalTrainer {

  /** Rows evaluated per forward pass. */
  public static final int EVAL_BATCH = 500;

  /** What one epoch did. */
  public record EpochStats(int epoch, double meanLoss, double seconds, double imagesPerSecond) {}

  private LocalTrainer() {}

  /**
   * Trains {@code g} for {@code cfg.epochs()} epochs on ({@code x}, {@code y}).
   *
   * <p>Installs {@code cfg.lrSchedule(x.length)} in the updater and restarts the iteration
   * count, so a graph can be trained again (fine-tuning) with a new schedule; weight decay and
   * momentum stay as the graph was built. Epoch {@code e} (0-based) shuffles and augments with
   * {@code new Random(mix(cfg.seed(), e))}.
   *
   * @param onEpoch called with the 1-based epoch number after each epoch (may be null)
   * @return per-epoch statistics
   */
  public static List<EpochStats> fit(
      ComputationGraph g, float[][] x, int[] y, TrainingConfig cfg, InputSpec spec,
      IntConsumer onEpoch) {
    if (x.length != y.length) {
      throw new IllegalArgumentException(
          "Cannot train on " + x.length + " tensors with " + y.length + " labels");
    }
    int numClasses = numClasses(g);
    float[][] targets = new float[y.length][];
    for (int i = 0; i < y.length; i++) {
      targets[i] = Minibatch.oneHot(y[i], numClasses);
    }
    return fit(g, x, targets, cfg, spec, onEpoch);
  }

  /**
   * As {@link #fit(ComputationGraph, float[][], int[], TrainingConfig, InputSpec, IntConsumer)}
   * with a target distribution per example (soft pseudo-labels) instead of a class index.
   */
  public static List<EpochStats> fit(
      ComputationGraph g, float[][] x, float[][] targets, TrainingConfig cfg, InputSpec spec,
      IntConsumer onEpoch) {
    return fit(g, x, targets, cfg, spec, null, onEpoch);
  }

  /**
   * As {@link #fit(ComputationGraph, float[][], int[], TrainingConfig, InputSpec, IntConsumer)},
   * each image first cut by a {@link RandomResizedCrop} (drawn from the epoch's {@link Random},
   * before the other augmentations) from {@code spec}, the images' size, to the crop's training
   * size; a null crop trains on the images as they are.
   */
  public static List<EpochStats> fit(ComputationGraph g, float[][] x, int[] y, TrainingConfig cfg,
      InputSpec spec, RandomResizedCrop crop, IntConsumer onEpoch) {
    int numClasses = numClasses(g);
    float[][] targets = new float[y.length][];
    for (int i = 0; i < y.length; i++) {
      targets[i] = Minibatch.oneHot(y[i], numClasses);
    }
    return fit(g, x, targets, cfg, spec, crop, onEpoch);
  }

  private static List<EpochStats> fit(
      ComputationGraph g, float[][] x, float[][] targets, TrainingConfig cfg, InputSpec spec,
      RandomResizedCrop crop, IntConsumer onEpoch) {
    if (x.length != targets.length) {
      throw new IllegalArgumentException(
          "Cannot train on " + x.length + " tensors with " + targets.length + " target rows");
    }
    if (x.length < 2) {
      throw new IllegalArgumentException("Cannot train on " + x.length + " examples");
    }
    int numClasses = numClasses(g);
    if (targets[0].length != numClasses) {
      throw new IllegalArgumentException(
          "Cannot train a " + numClasses + "-class graph on " + targets[0].length + "-class targets");
    }
    int n = x.length;
    TrainingKernels.install(g);
    g.setLearningRate(cfg.lrSchedule(n));
    g.getConfiguration().setIterationCount(0);
    g.getConfiguration().setEpochCount(0);
    Augmenter aug = cfg.augmenter();
    Mixup mixup = cfg.mixup();
    // ENorm: one equi-normalization cycle after every SGD step (enorm-c > 0).
    EquiNormalizer enorm = cfg.enormC() > 0 ? new EquiNormalizer(g, cfg.enormC()) : null;
    int[] perm = new int[n];
    List<EpochStats> stats = new ArrayList<>();
    try {
      for (int e = 0; e < cfg.epochs(); e++) {
        long t0 = System.nanoTime();
        Random rnd = new Random(mix(cfg.seed(), e));
        Shuffle.permutation(perm, rnd);
        double lossSum = 0;
        int seen = 0;
        for (int start = 0; start < n; start += cfg.batchSize()) {
          int b = Math.min(cfg.batchSize(), n - start);
          if (b < 2) {
            break; // BatchNorm cannot train on one example
          }
          float[][] bx = new float[b][];
          float[][] bt = new float[b][];
          for (int k = 0; k < b; k++) {
            bx[k] = crop == null ? x[perm[start + k]] : crop.apply(x[perm[start + k]], spec, rnd);
            bt[k] = targets[perm[start + k]];
          }
          INDArray[] batch = Minibatch.pack(bx, bt, crop == null ? spec : crop.outputSpec(spec), aug,
              cfg.labelSmoothing(), mixup, rnd);
          INDArray features = batch[0];
          INDArray labels = batch[1];
          g.fit(new INDArray[] {features}, new INDArray[] {labels});
          if (enorm != null) {
            enorm.cycle();
          }
          lossSum += g.score() * b;
          // Free off-heap buffers now rather than when the GC notices: otherwise ND4J's
          // off-heap limit triggers System.gc() storms on long runs.
          features.close();
          labels.close();
          seen += b;
        }
        g.getConfiguration().setEpochCount(e + 1);
        double secs = (System.nanoTime() - t0) / 1e9;
        stats.add(new EpochStats(e + 1, lossSum / Math.max(1, seen), secs, seen / secs));
        if (onEpoch != null) {
          TrainingKernels.restoreConfiguration(g); // the callback may save the graph
          onEpoch.accept(e + 1);
          TrainingKernels.install(g);
        }
      }
    } finally {
      TrainingKernels.restoreConfiguration(g); // the graph may be saved next
    }
    return stats;
  }

  /**
   * Softmax outputs, one row per tensor, in inference mode. The tensor shape comes from the
   * first layer's input channels and a square image; use
   * {@link #predict(ComputationGraph, float[][], InputSpec)} for non-square inputs.
   */
  public static float[][] predict(ComputationGraph g, float[][] x) {
    if (x.length == 0) {
      return new float[0][];
    }
    int channels = inputChannels(g);
    int side = (int) Math.round(Math.sqrt(x[0].length / (double) channels));
    if (side * side * channels != x[0].length) {
      throw new IllegalArgumentException(
          "Cannot infer a square " + channels + "-channel image from " + x[0].length
              + " floats: pass the InputSpec");
    }
    return predict(g, x, side, side, channels);
  }

  /** Softmax outputs, one row per tensor of shape {@code spec}, in inference mode. */
  public static float[][] predict(ComputationGraph g, float[][] x, InputSpec spec) {
    return predict(g, x, spec.height(), spec.width(), spec.channels());
  }

  private static float[][] predict(ComputationGraph g, float[][] x, int h, int w, int c) {
    float[][] out = new float[x.length][];
    int size = h * w * c;
    for (int start = 0; start < x.length; start += EVAL_BATCH) {
      int b = Math.min(EVAL_BATCH, x.length - start);
      float[] f = new float[b * size];
      for (int k = 0; k < b; k++) {
        System.arraycopy(x[start + k], 0, f, k * size, size);
      }
      INDArray features = Nd4j.create(f, new long[] {b, c, h, w}, 'c');
      INDArray probs = g.output(false, features)[0];
      float[][] rows = probs.toFloatMatrix();
      features.close();
      probs.close();
      System.arraycopy(rows, 0, out, start, b);
    }
    return out;
  }

  /** {top-1, top-5} accuracy (fractions in [0,1]) of {@code g} on ({@code x}, {@code y}). */
  public static double[] evaluate(ComputationGraph g, float[][] x, int[] y) {
    return accuracy(predict(g, x), y);
  }

  /** {top-1, top-5} of given probability rows; ties count against the true class. */
  public static double[] accuracy(float[][] probs, int[] y) {
    int top1 = 0;
    int top5 = 0;
    for (int i = 0; i < probs.length; i++) {
      float p = probs[i][y[i]];
      int higher = 0;
      for (int c = 0; c < probs[i].length; c++) {
        if (c != y[i] && probs[i][c] >= p) {
          higher++;
        }
      }
      if (higher == 0) {
        top1++;
      }
      if (higher < 5) {
        top5++;
      }
    }
    return new double[] {top1 / (double) probs.length, top5 / (double) probs.length};
  }

  /** Number of classes of the graph's (single) output layer. */
  public static int numClasses(ComputationGraph g) {
    return (int) ((BaseOutputLayer) g.getOutputLayer(0).conf().getLayer()).getNOut();
  }

  private static int inputChannels(ComputationGraph g) {
    String input = g.getConfiguration().getNetworkInputs().get(0);
    for (var e : g.getConfiguration().getVertexInputs().entrySet()) {
      if (e.getValue().contains(input)) {
        var v = g.getConfiguration().getVertices().get(e.getKey());
        if (v instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv
            && lv.getLayerConf().getLayer()
                instanceof org.deeplearning4j.nn.conf.layers.FeedForwardLayer ff) {
          return (int) ff.getNIn();
        }
      }
    }
    throw new IllegalArgumentException("Cannot find the channel count of the graph's input");
  }

  private static long mix(long seed, int epoch) {
    long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 30)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
