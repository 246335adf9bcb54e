package io.semisup.jobs.spark;

import io.semisup.core.dl4j.Dl4jPatches;
import io.semisup.core.enorm.EquiNormalizer;
import io.semisup.core.image.Augmenter;
import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.ImageRejectedException;
import io.semisup.core.image.InputSpec;
import io.semisup.core.image.Preprocessor;
import io.semisup.core.image.RandomResizedCrop;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.progress.ProgressReporter;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;
import io.semisup.core.train.Minibatch;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a model on a table of labelled image bytes with dl4j-spark (parameter averaging), so
 * teacher, student and fine-tuning scale out the same way.
 *
 * <p>Images are decoded once and kept as tensors; each epoch reshuffles and re-augments them with a
 * seed derived from (seed, epoch, partition), so a run is repeatable whatever the executors. The
 * data is coalesced to one partition per worker, which is what parameter averaging expects.
 */
public final class SparkTrainer {

  private static final Logger LOG = LoggerFactory.getLogger(SparkTrainer.class);

  private final JavaSparkContext jsc;
  private final int workers;
  private final int averagingFrequency;

  /**
   * @param workers parallel model replicas (0: Spark's default parallelism)
   * @param averagingFrequency minibatches each replica fits between two averagings
   */
  public SparkTrainer(JavaSparkContext jsc, int workers, int averagingFrequency) {
    this.jsc = jsc;
    this.workers = workers > 0 ? workers : jsc.defaultParallelism();
    this.averagingFrequency = averagingFrequency;
  }

  public int workers() {
    return workers;
  }

  /**
   * Fits {@code graph} on rows (image_id, bytes, label), labels in [0, numClasses) for {@code cfg.epochs()} epochs.
   *
   * @return the trained graph (a new instance held by the driver)
   */
  public ComputationGraph fit(
      ComputationGraph graph, Dataset<Row> rows, TrainingConfig cfg, InputSpec spec, int numClasses, String what) {
    return fit(graph, rows, cfg, spec, null, spec, numClasses, what);
  }

  /**
   * As {@link #fit(ComputationGraph, Dataset, TrainingConfig, InputSpec, int, String)}, with a
   * RandomResizedCrop: images are decoded once at {@code decodeSpec} (the data's resolution) and
   * every epoch crops them anew to {@code spec} (the training resolution). A null {@code crop}
   * decodes straight at {@code spec}.
   */
  public ComputationGraph fit(ComputationGraph graph, Dataset<Row> rows, TrainingConfig cfg,
      InputSpec spec, RandomResizedCrop crop, InputSpec decodeSpec, int numClasses, String what) {
    InputSpec decodeAt = crop == null ? spec : decodeSpec;
    JavaRDD<Example> examples =
        rows.select("image_id", "bytes", "label")
            .orderBy("image_id", "label")
            .javaRDD()
            .map(r -> Example.decode(r, decodeAt))
            .coalesce(workers)
            .persist(StorageLevel.MEMORY_AND_DISK());
    long n = examples.count();
    if (n < 2L * workers) {
      throw new IllegalArgumentException(
          "Cannot train the " + what + " on " + n + " images with " + workers + " workers: too few.");
    }
    // Progress is counted here, not in the network: dl4j-spark's workers rebuild each round's
    // network from ComputationGraphConfiguration.clone(), which drops the iteration count, so a
    // schedule read from it would stay at its first value (measured: the teacher lost 14 points
    // of top-1). Each fit call gets the schedule shifted to the iterations already done, and an
    // epoch is cut into chunks so that the learning rate moves within long epochs too.
    long perWorker = (n + workers - 1) / workers;
    int stepsPerEpoch = (int) Math.max(1, (perWorker + cfg.batchSize() - 1) / cfg.batchSize());
    int chunks = Math.max(1, Math.min(stepsPerEpoch / CHUNK_STEPS, 16));
    int totalSteps = Math.max(1, stepsPerEpoch * cfg.epochs());
    io.semisup.core.train.LrSchedule schedule =
        new io.semisup.core.train.LrSchedule(
            cfg.schedule(), cfg.learningRate(), totalSteps, (int) Math.round(cfg.warmupFraction() * totalSteps));

    ParameterAveragingTrainingMaster tm =
        new ParameterAveragingTrainingMaster.Builder(workers, cfg.batchSize())
            .batchSizePerWorker(cfg.batchSize())
            .averagingFrequency(averagingFrequency)
            .workerPrefetchNumBatches(0)
            .saveUpdater(true)
            .repartionData(Repartition.Never)
            .rddTrainingApproach(RDDTrainingApproach.Direct)
            .storageLevel(StorageLevel.MEMORY_ONLY())
            .rngSeed(cfg.seed())
            .trainingHooks(hooks(cfg))
            .build();
    SparkComputationGraph net = new SparkComputationGraph(jsc, graph, tm);
    Augmenter aug = cfg.augmenter();
    float eps = (float) cfg.labelSmoothing();
    int done = 0;
    ProgressReporter progress = ProgressReporter.start(what, "images", n * cfg.epochs(),
        ProgressReporter.LOG_INTERVAL_SECONDS);
    for (int e = 0; e < cfg.epochs(); e++) {
      long t0 = System.nanoTime();
      final int epoch = e;
      for (int c = 0; c < chunks; c++) {
        final int chunk = c;
        final int numChunks = chunks;
        net.getNetwork().setLearningRate(schedule.withOffset(done));
        JavaRDD<DataSet> batches =
            examples.mapPartitionsWithIndex(
                    (part, it) -> chunk(minibatches(it, cfg, spec, crop, decodeAt, aug, numClasses, eps, mix(cfg.seed(), epoch, part)), chunk, numChunks),
                    true)
                .persist(StorageLevel.MEMORY_ONLY());
        net.fit(batches);
        if (cfg.enormC() > 0) { // workers balanced their replicas apart: balance the average (EnormHook)
          new EquiNormalizer(net.getNetwork(), cfg.enormC()).cycle();
        }
        batches.unpersist();
        done += chunkSteps(stepsPerEpoch, c, chunks);
        progress.update(n * done / stepsPerEpoch);
      }
      net.getNetwork().getConfiguration().setEpochCount(e + 1);
      net.getNetwork().getConfiguration().setIterationCount(done);
      double secs = (System.nanoTime() - t0) / 1e9;
      LOG.info("[{}] epoch {}/{}: score {}, lr now {} ({} images/s)", what, e + 1, cfg.epochs(),
          String.format("%.4f", net.getScore()), String.format("%.5f", schedule.valueAt(done, e + 1)),
          String.format("%.0f", n / secs));
    }
    progress.finish();
    // Saved models carry the plain schedule, positioned at the end of training.
    net.getNetwork().setLearningRate(schedule.withOffset(done));
    examples.unpersist();
    tm.deleteTempFiles(jsc);
    return net.getNetwork();
  }

  /** The kernels for every run, and an ENorm cycle after every step when enorm-c &gt; 0. */
  static List<TrainingHook> hooks(TrainingConfig cfg) {
    return cfg.enormC() > 0
        ? List.of(new TrainingKernelsHook(Dl4jPatches.status().options()), new EnormHook(cfg.enormC()))
        : List.of(new TrainingKernelsHook(Dl4jPatches.status().options()));
  }

  /** Minibatches per worker between two learning-rate updates, at most. */
  static final int CHUNK_STEPS = 20;

  /** The c-th of {@code chunks} contiguous slices of one partition's minibatches. */
  static Iterator<DataSet> chunk(Iterator<DataSet> all, int c, int chunks) {
    List<DataSet> list = new ArrayList<>();
    all.forEachRemaining(list::add);
    int from = (int) ((long) list.size() * c / chunks);
    int to = (int) ((long) list.size() * (c + 1) / chunks);
    return list.subList(from, to).iterator();
  }

  /** Steps one worker takes in chunk c (the same split as {@link #chunk}). */
  static int chunkSteps(int steps, int c, int chunks) {
    return (int) ((long) steps * (c + 1) / chunks) - (int) ((long) steps * c / chunks);
  }

  /** Shuffled, augmented minibatches of one partition, labels smoothed by {@code eps}. */
  static Iterator<DataSet> minibatches(
      Iterator<Example> it, TrainingConfig cfg, InputSpec spec, Augmenter aug, int numClasses, float eps, long seed) {
    return minibatches(it, cfg, spec, null, spec, aug, numClasses, eps, seed);
  }

  /** As above, each image first cropped by {@code crop} (when not null) from {@code decodeSpec} to {@code spec}. */
  static Iterator<DataSet> minibatches(Iterator<Example> it, TrainingConfig cfg, InputSpec spec,
      RandomResizedCrop crop, InputSpec decodeSpec, Augmenter aug, int numClasses, float eps, long seed) {
    List<Example> all = new ArrayList<>();
    it.forEachRemaining(all::add);
    Random rnd = new Random(seed);
    java.util.Collections.shuffle(all, rnd);
    List<DataSet> out = new ArrayList<>();
    for (int start = 0; start + 2 <= all.size(); start += cfg.batchSize()) {
      int b = Math.min(cfg.batchSize(), all.size() - start);
      float[][] x = new float[b][];
      int[] y = new int[b];
      for (int k = 0; k < b; k++) {
        x[k] = crop == null ? all.get(start + k).x() : crop.apply(all.get(start + k).x(), decodeSpec, rnd);
        y[k] = all.get(start + k).y();
      }
      INDArray[] batch = Minibatch.pack(x, y, spec, numClasses, aug, eps, cfg.mixup(), rnd);
      out.add(new DataSet(batch[0], batch[1]));
    }
    return out.iterator();
  }

  static long mix(long seed, int epoch, int partition) {
    long h = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + partition * 0x94D049BB133111EBL;
    return h ^ (h >>> 31);
  }

  /** One decoded training image. */
  public record Example(float[] x, int y) implements Serializable {
    static Example decode(Row r, InputSpec spec) {
      byte[] bytes = (byte[]) r.get(1);
      try {
        return new Example(
            new Preprocessor(spec).toChw(new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE).decode(bytes).image()),
            r.getInt(2));
      } catch (ImageRejectedException e) {
        // Shard already decoded every image it kept, so this is a broken shard, not bad input.
        throw new IllegalStateException(
            "Cannot decode training image " + r.getString(0) + " that shard accepted: " + e.getMessage(), e);
      }
    }
  }
}
