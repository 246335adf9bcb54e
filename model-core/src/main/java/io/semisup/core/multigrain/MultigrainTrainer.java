package io.semisup.core.multigrain;

import io.semisup.core.dl4j.TrainingKernels;
import io.semisup.core.enorm.EquiNormalizer;
import io.semisup.core.image.Augmenter;
import io.semisup.core.image.InputSpec;
import io.semisup.core.image.RandomResizedCrop;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.Minibatch;
import io.semisup.core.train.Shuffle;
import io.semisup.core.train.TrainingConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Trains a classifier of {@link Architectures} with the MultiGrain objective in one JVM: the
 * loop of {@link LocalTrainer} (seeded shuffle and augmentation, label smoothing, the config's LR
 * schedule, ENorm) over batches of {@link RepeatedAugmentation}, minimising
 * {@code lambda CE + (1 - lambda) margin loss}.
 *
 * <p>How: the graph is trained through a copy with a second, training-only output, a
 * {@code LossLayer} on the pooling layer {@link Architectures#POOL} whose loss is a
 * {@link MarginLossFunction}; the classifier's cross-entropy is weighted by {@code lambda}
 * (DL4J's class weights of {@code LossMCXENT}, all equal to lambda) and DL4J sums the two
 * outputs' scores and gradients. After training (and before each epoch callback) the parameters,
 * batch-norm statistics and updater state are copied back into the caller's graph, which never
 * has the second output: it saves and exports as the plain classifier.
 */
public final class MultigrainTrainer {

  /** Name of the training-only output. */
  public static final String MARGIN_OUTPUT = "multigrain-margin";

  /** What one epoch did. */
  public record EpochStats(int epoch, double meanLoss, double meanMarginLoss, double beta,
      double seconds, double imagesPerSecond) {}

  private MultigrainTrainer() {}

  /**
   * Trains {@code g} on ({@code x}, {@code y}) for {@code cfg.epochs()} epochs with
   * {@code objective}; {@code crop} (may be null) cuts each copy before the other augmentations,
   * as in {@link LocalTrainer}. The config's augmentation must not be the identity (the copies
   * would be equal) and mixup must be off (it blends copies of different images).
   *
   * @param onEpoch called with the 1-based epoch after each epoch, with {@code g} up to date
   */
  public static List<EpochStats> fit(ComputationGraph g, float[][] x, int[] y, TrainingConfig cfg,
      InputSpec spec, RandomResizedCrop crop, MultigrainObjective objective, IntConsumer onEpoch) {
    if (x.length != y.length) {
      throw new IllegalArgumentException(
          "Cannot train on " + x.length + " tensors with " + y.length + " labels");
    }
    Augmenter aug = cfg.augmenter();
    if (aug.isIdentity() && crop == null) {
      throw new IllegalArgumentException("Cannot train with repeated augmentations without"
          + " augmentation: turn on flips, shifts, erasing or random resized crops");
    }
    if (cfg.mixupAlpha() > 0) {
      throw new IllegalArgumentException("Cannot train the MultiGrain objective with mixup: it"
          + " blends copies of different images");
    }
    int imagesPerBatch = objective.imagesPerBatch(cfg.batchSize());
    int repeats = objective.repeats();
    int numClasses = LocalTrainer.numClasses(g);
    int epochImages = RepeatedAugmentation.imagesPerEpoch(x.length, repeats);
    int rowsPerEpoch = epochImages * repeats;

    MarginLossFunction margin = new MarginLossFunction(1 - objective.lambda(), objective.margin(),
        objective.betaInit(), cfg.seed());
    ComputationGraph tg = withMarginOutput(g, margin);
    BaseOutputLayer classifier =
        (BaseOutputLayer) tg.getLayer(Architectures.OUTPUT).conf().getLayer();
    ILossFunction plainCe = classifier.getLossFn();
    classifier.setLossFn(new LossMCXENT(
        Nd4j.valueArrayOf(new long[] {1, numClasses}, objective.lambda())));

    ISchedule lr = cfg.lrSchedule(rowsPerEpoch);
    TrainingKernels.install(tg);
    tg.setLearningRate(lr);
    tg.getConfiguration().setIterationCount(0);
    tg.getConfiguration().setEpochCount(0);
    EquiNormalizer enorm = cfg.enormC() > 0 ? new EquiNormalizer(tg, cfg.enormC()) : null;
    InputSpec batchSpec = crop == null ? spec : crop.outputSpec(spec);
    int[] perm = new int[x.length];
    List<EpochStats> stats = new ArrayList<>();
    long iteration = 0;
    try {
      for (int e = 0; e < cfg.epochs(); e++) {
        long t0 = System.nanoTime();
        Random rnd = new Random(mix(cfg.seed(), e));
        Shuffle.permutation(perm, rnd);
        double lossSum = 0;
        double marginSum = 0;
        int steps = 0;
        int seen = 0;
        for (int start = 0; start < epochImages; start += imagesPerBatch) {
          int images = Math.min(imagesPerBatch, epochImages - start);
          if (images < 2) {
            break; // no negatives
          }
          int[] rows = RepeatedAugmentation.rows(perm, start, images, repeats);
          int[] groups = RepeatedAugmentation.groups(images, repeats);
          float[][] bx = new float[rows.length][];
          float[][] bt = new float[rows.length][];
          float[] bg = new float[rows.length];
          for (int k = 0; k < rows.length; k++) {
            bx[k] = crop == null ? x[rows[k]] : crop.apply(x[rows[k]], spec, rnd);
            bt[k] = Minibatch.oneHot(y[rows[k]], numClasses);
            bg[k] = groups[k];
          }
          INDArray[] batch = Minibatch.pack(bx, bt, batchSpec, aug, cfg.labelSmoothing(), rnd);
          INDArray groupCol = Nd4j.create(bg, new long[] {rows.length, 1}, 'c');
          margin.startStep(iteration);
          tg.fit(new INDArray[] {batch[0]}, new INDArray[] {batch[1], groupCol});
          margin.stepBeta(lr.valueAt((int) iteration, e), cfg.momentum());
          if (enorm != null) {
            enorm.cycle();
          }
          lossSum += tg.score() * rows.length;
          marginSum += margin.last().loss();
          steps++;
          iteration++;
          seen += rows.length;
          batch[0].close();
          batch[1].close();
          groupCol.close();
        }
        tg.getConfiguration().setEpochCount(e + 1);
        double secs = (System.nanoTime() - t0) / 1e9;
        stats.add(new EpochStats(e + 1, lossSum / Math.max(1, seen), marginSum / Math.max(1, steps),
            margin.beta(), secs, seen / secs));
        if (onEpoch != null) {
          copyBack(tg, g);
          onEpoch.accept(e + 1);
        }
      }
    } finally {
      TrainingKernels.restoreConfiguration(tg);
      classifier.setLossFn(plainCe); // the configuration may be shared with g's
      copyBack(tg, g);
    }
    return stats;
  }

  /**
   * The margin loss of {@code g}'s pooled features in inference mode on one batch ({@code chw}
   * rows, image {@code groups}), with negatives drawn from {@code seed}: how well copies of an
   * image are told from other images, for tests and measurements.
   */
  public static double marginLoss(ComputationGraph g, float[][] chw, int[] groups, InputSpec spec,
      double beta, double marginAlpha, long seed) {
    double[][] z = pooled(g, chw, spec);
    List<DistanceWeightedSampling.Triplet> triplets =
        DistanceWeightedSampling.sample(MarginLoss.normalize(z), groups, new Random(seed));
    return MarginLoss.compute(z, triplets, beta, marginAlpha).loss();
  }

  private static double[][] pooled(ComputationGraph g, float[][] chw, InputSpec spec) {
    int size = spec.size();
    float[] flat = new float[chw.length * size];
    for (int k = 0; k < chw.length; k++) {
      System.arraycopy(chw[k], 0, flat, k * size, size);
    }
    INDArray in = Nd4j.create(flat, new long[] {chw.length, spec.channels(), spec.height(), spec.width()}, 'c');
    INDArray p = g.feedForward(new INDArray[] {in}, false, false).get(Architectures.POOL);
    return p.reshape(chw.length, -1).toDoubleMatrix();
  }

  /** A copy of {@code g} with the margin loss's output on the pooling layer, same parameters. */
  static ComputationGraph withMarginOutput(ComputationGraph g, MarginLossFunction loss) {
    if (g.getVertex(Architectures.POOL) == null) {
      throw new IllegalArgumentException("Cannot train the MultiGrain objective on this graph: it"
          + " has no pooling layer '" + Architectures.POOL + "' (build it with Architectures)");
    }
    ComputationGraph tg = new TransferLearning.GraphBuilder(g)
        .addLayer(MARGIN_OUTPUT,
            new LossLayer.Builder(loss).activation(Activation.IDENTITY).build(),
            Architectures.POOL)
        .setOutputs(Architectures.OUTPUT, MARGIN_OUTPUT)
        .build();
    copyParams(g, tg);
    if (g.getUpdater(false) != null && g.getUpdater().getStateViewArray() != null
        && tg.getUpdater().getStateViewArray() != null
        && g.getUpdater().getStateViewArray().length() == tg.getUpdater().getStateViewArray().length()) {
      tg.getUpdater().getStateViewArray().assign(g.getUpdater().getStateViewArray());
    }
    return tg;
  }

  private static void copyBack(ComputationGraph tg, ComputationGraph g) {
    copyParams(tg, g);
    INDArray from = tg.getUpdater().getStateViewArray();
    INDArray to = g.getUpdater().getStateViewArray();
    if (from != null && to != null && from.length() == to.length()) {
      to.assign(from);
    }
    g.getConfiguration().setIterationCount(tg.getConfiguration().getIterationCount());
    g.getConfiguration().setEpochCount(tg.getConfiguration().getEpochCount());
  }

  private static void copyParams(ComputationGraph from, ComputationGraph to) {
    for (Layer l : to.getLayers()) {
      String name = l.conf().getLayer().getLayerName();
      INDArray p = l.params();
      if (p == null || p.length() == 0) {
        continue;
      }
      l.setParams(from.getLayer(name).params());
    }
  }

  private static long mix(long seed, int epoch) {
    long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + 0x5EEDL;
    z = (z ^ (z >>> 30)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
