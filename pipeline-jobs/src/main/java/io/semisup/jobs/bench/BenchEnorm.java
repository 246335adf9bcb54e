package io.semisup.jobs.bench;

import io.semisup.core.UsageError;
import io.semisup.core.data.FashionMnist;
import io.semisup.core.enorm.EquiNormalizer;
import io.semisup.core.image.Augmenter;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.Minibatch;
import io.semisup.core.dl4j.TrainingKernels;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.cli.RunOptions;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.TrainingConfigs;
import io.semisup.jobs.stages.RunContext;
import io.semisup.core.train.Shuffle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench enorm}: does equi-normalization (ENorm) make a BN-free network train as well as its
 * batch-norm twin, at small and large batches, with few and many labels?
 *
 * <p>For each label count and batch size: the batch-norm network ({@code bn}), the same network
 * without batch norm ({@code plain}), and the latter with an ENorm cycle after every step at c = 1
 * and at the best of the other candidates ({@code enorm}), that choice made on a validation split
 * carved from the training images (never the test set) with the first seed. Top-1 on the test
 * set, mean and standard deviation over the seeds; the time per training step of every network
 * measured in the same run, and, interleaved on one network, the step with and without a cycle
 * and the cycle alone ({@code timing}).
 *
 * <p>Why the training recipe is the teacher's (conf {@code teacher}, epochs and batch from the
 * options, learning rate scaled linearly with the batch from {@code --lr} at batch 64): the
 * question is ENorm against batch norm under one recipe, not each network at its own best.
 */
@Command(
    name = "enorm",
    mixinStandardHelpOptions = true,
    description = {
      "ENorm vs batch norm vs neither on Fashion-MNIST: top-1 over seeds and time per step.",
      "Last line: JSON {\"seeds\": n, \"rows\": [{batch, labels, net, c, top1, top1_sd, step_ms}, ...]}."
    })
public final class BenchEnorm implements Callable<Integer> {

  @Mixin RunOptions run = new RunOptions();

  @Option(names = "--seeds", split = ",", defaultValue = "42,1,2",
      description = "Seeds of weight init, shuffling and augmentation (default: ${DEFAULT-VALUE}).")
  List<Long> seeds;

  @Option(names = "--quick",
      description = "The reduced run of docs/results.md: 1,000 labels only and --quick-epochs epochs.")
  boolean quick;

  @Option(names = "--quick-epochs", defaultValue = "8",
      description = "Epochs with --quick (default: ${DEFAULT-VALUE}).")
  int quickEpochs;

  @Option(names = "--labels", split = ",", defaultValue = "1000,60000",
      description = "Labelled training images (balanced over classes; the validation split is"
          + " held out, so 60000 trains on the rest) (default: ${DEFAULT-VALUE}).")
  List<Integer> labels;

  @Option(names = "--batches", split = ",", defaultValue = "8,64",
      description = "Batch sizes (default: ${DEFAULT-VALUE}).")
  List<Integer> batches;

  @Option(names = "--epochs", defaultValue = "30", description = "Epochs per run (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--lr", defaultValue = "0.1",
      description = "Peak learning rate at batch 64, scaled linearly with the batch (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--cs", split = ",", defaultValue = "1.1,1.2",
      description = "ENorm c candidates besides 1, the best chosen on the validation split (default: ${DEFAULT-VALUE}).")
  List<Double> cs;

  @Option(names = "--val", defaultValue = "5000",
      description = "Training images held out as the validation split (default: ${DEFAULT-VALUE}).")
  int val;

  @Option(names = "--test-images", defaultValue = "10000",
      description = "Test images evaluated (default: ${DEFAULT-VALUE}, all).")
  int testImages;

  @Option(names = "--bn-arch", defaultValue = "resnet-small",
      description = "The batch-norm network (default: ${DEFAULT-VALUE}).")
  String bnArch;

  @Option(names = "--plain-arch", defaultValue = "resnet-small-nobn",
      description = "The BN-free network, trained with and without ENorm (default: ${DEFAULT-VALUE}).")
  String plainArch;

  @Option(names = "--timing-only",
      description = "Only the interleaved step timing (no accuracy runs; rows stay empty).")
  boolean timingOnly;

  @Option(names = "--fashion-mnist-dir", description = "IDX files (default: data.fashion-mnist-dir).")
  Path idxDir;

  private static final InputSpec SPEC = FashionMnist.INPUT_SPEC;

  /** One training run's outcome. */
  record Outcome(double top1, double valTop1, double stepMs) {}

  @Override
  public Integer call() throws Exception {
    SemisupConfig config = run.load();
    Path dir = BenchSupport.fashionMnistDir(idxDir, config);
    for (String arch : List.of(bnArch, plainArch)) {
      if (!Architectures.names().contains(arch)) {
        throw new UsageError("Cannot benchmark architecture '" + arch + "': valid names are "
            + Architectures.names());
      }
    }
    if (seeds.isEmpty() || batches.isEmpty() || labels.isEmpty()) {
      throw new UsageError("Cannot benchmark nothing: --seeds, --batches and --labels need a value each");
    }
    List<Integer> labelCounts = quick ? List.of(1000) : labels;
    int runEpochs = quick ? quickEpochs : epochs;
    TrainingConfig recipe = TrainingConfigs.from(config.settings().teacher().train(), seeds.get(0))
        .withEpochs(runEpochs).withEnormC(0);

    FashionMnist train = FashionMnist.load(dir, true);
    FashionMnist test = FashionMnist.load(dir, false);
    int[] testIdx = new int[Math.min(testImages, test.size())];
    Arrays.setAll(testIdx, i -> i);
    float[][] xTest = test.chw(testIdx, SPEC);
    int[] yTest = test.labels(testIdx);
    int[] order = Shuffle.permutation(train.size(), new Random(42));
    int[] valIdx = Arrays.copyOf(order, val);
    float[][] xVal = train.chw(valIdx, SPEC);
    int[] yVal = train.labels(valIdx);

    System.out.printf(Locale.ROOT, "bench enorm: bn %s, plain %s, seeds %s, batches %s, labels %s,"
            + " %d epochs, lr %.3f at batch 64, c in 1 and %s, val %d, test %d, load %.1f%n",
        bnArch, plainArch, seeds, batches, labelCounts, runEpochs, lr, cs, val, testIdx.length,
        BenchSupport.loadAverage());
    List<Map<String, Object>> rows = new ArrayList<>();
    Map<String, Object> timing = new LinkedHashMap<>();
    for (int batch : batches) {
      timing.put(String.valueOf(batch), timing(plainArch, recipe.withBatchSize(batch)
          .withLearningRate(lr * batch / 64.0), train, order, val));
    }
    for (int n : timingOnly ? List.<Integer>of() : labelCounts) {
      int[] trainIdx = balanced(train, order, val, n);
      float[][] x = train.chw(trainIdx, SPEC);
      int[] y = train.labels(trainIdx);
      for (int batch : batches) {
        TrainingConfig cfg = recipe.withBatchSize(batch).withLearningRate(lr * batch / 64.0);
        List<Outcome> bn = runSeeds(bnArch, cfg, x, y, xVal, yVal, xTest, yTest, "bn");
        List<Outcome> plain = runSeeds(plainArch, cfg, x, y, xVal, yVal, xTest, yTest, "plain");
        List<Outcome> enorm1 = runSeeds(plainArch, cfg.withEnormC(1.0), x, y, xVal, yVal, xTest, yTest, "enorm");
        // The best other c on the validation split, first seed only; its run is that seed's.
        double bestC = Double.NaN;
        Outcome bestFirst = null;
        Map<String, Object> valByC = new LinkedHashMap<>();
        for (double c : cs) {
          Outcome o = once(plainArch, cfg.withEnormC(c).withSeed(seeds.get(0)), x, y, xVal, yVal, xTest, yTest,
              "enorm c=" + c + " (validation)");
          valByC.put(String.valueOf(c), BenchSupport.round(o.valTop1(), 4));
          if (bestFirst == null || o.valTop1() > bestFirst.valTop1()) {
            bestFirst = o;
            bestC = c;
          }
        }
        valByC.put("1.0", BenchSupport.round(enorm1.get(0).valTop1(), 4));
        List<Outcome> enormBest = new ArrayList<>();
        if (bestFirst != null) {
          enormBest.add(bestFirst);
          enormBest.addAll(runSeeds(plainArch, cfg.withEnormC(bestC), seeds.subList(1, seeds.size()),
              x, y, xVal, yVal, xTest, yTest, "enorm"));
        }
        rows.add(row(batch, n, trainIdx.length, "bn", bnArch, 0, bn));
        rows.add(row(batch, n, trainIdx.length, "plain", plainArch, 0, plain));
        rows.add(row(batch, n, trainIdx.length, "enorm", plainArch, 1.0, enorm1));
        if (bestFirst != null) {
          Map<String, Object> r = row(batch, n, trainIdx.length, "enorm", plainArch, bestC, enormBest);
          r.put("val_top1_by_c", valByC);
          rows.add(r);
        }
      }
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("seeds", seeds.size());
    json.put("rows", rows);
    json.put("epochs", runEpochs);
    json.put("timing", timing);
    json.put("load_average", BenchSupport.round(BenchSupport.loadAverage(), 2));
    System.out.println(RunContext.json().writeValueAsString(json));
    return 0;
  }

  private List<Outcome> runSeeds(String arch, TrainingConfig cfg, float[][] x, int[] y,
      float[][] xVal, int[] yVal, float[][] xTest, int[] yTest, String what) {
    return runSeeds(arch, cfg, seeds, x, y, xVal, yVal, xTest, yTest, what);
  }

  private List<Outcome> runSeeds(String arch, TrainingConfig cfg, List<Long> which, float[][] x,
      int[] y, float[][] xVal, int[] yVal, float[][] xTest, int[] yTest, String what) {
    List<Outcome> out = new ArrayList<>();
    for (long seed : which) {
      out.add(once(arch, cfg.withSeed(seed), x, y, xVal, yVal, xTest, yTest, what));
    }
    return out;
  }

  private Outcome once(String arch, TrainingConfig cfg, float[][] x, int[] y, float[][] xVal,
      int[] yVal, float[][] xTest, int[] yTest, String what) {
    ComputationGraph g = Architectures.build(arch, SPEC, 10, cfg);
    List<LocalTrainer.EpochStats> stats = LocalTrainer.fit(g, x, y, cfg, SPEC, null);
    double secs = stats.stream().mapToDouble(LocalTrainer.EpochStats::seconds).sum();
    long steps = (long) cfg.epochs() * (x.length / cfg.batchSize()
        + (x.length % cfg.batchSize() >= 2 ? 1 : 0));
    double top1 = LocalTrainer.accuracy(LocalTrainer.predict(g, xTest, SPEC), yTest)[0];
    double valTop1 = LocalTrainer.accuracy(LocalTrainer.predict(g, xVal, SPEC), yVal)[0];
    double last = stats.isEmpty() ? Double.NaN : stats.get(stats.size() - 1).meanLoss();
    Outcome o = new Outcome(top1, valTop1, secs * 1000 / Math.max(1, steps));
    System.out.printf(Locale.ROOT, "  %-32s batch %3d, %5d images, seed %2d: top1 %.4f, val %.4f,"
            + " last loss %.4f, %.2f ms/step%n",
        what + " (" + arch + ")", cfg.batchSize(), x.length, cfg.seed(), top1, valTop1, last, o.stepMs());
    return o;
  }

  /**
   * Time per training step of the BN-free network without and with an ENorm cycle, and of the
   * cycle alone, interleaved on one network (blocks of {@value #TIMED_STEPS} steps, alternating,
   * {@value #TIMED_ROUNDS} rounds, medians) so that the machine's load, which drifts on shared
   * hosts, hits both alike; the per-row step_ms are whole runs apart and not comparable.
   */
  private Map<String, Object> timing(String arch, TrainingConfig cfg, FashionMnist train, int[] order,
      int skip) {
    ComputationGraph g = Architectures.build(arch, SPEC, 10, cfg);
    TrainingKernels.install(g);
    EquiNormalizer enorm = new EquiNormalizer(g, 1.0);
    Random rnd = new Random(cfg.seed());
    int[] idx = Arrays.copyOfRange(order, skip, skip + cfg.batchSize());
    INDArray[] batch = Minibatch.pack(train.chw(idx, SPEC), train.labels(idx), SPEC, 10,
        Augmenter.NONE, 0, rnd);
    for (int i = 0; i < TIMED_STEPS; i++) { // warm-up
      g.fit(new INDArray[] {batch[0]}, new INDArray[] {batch[1]});
      enorm.cycle();
    }
    double[] plain = new double[TIMED_ROUNDS];
    double[] withEnorm = new double[TIMED_ROUNDS];
    double[] cycle = new double[TIMED_ROUNDS];
    for (int r = 0; r < TIMED_ROUNDS; r++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < TIMED_STEPS; i++) {
        g.fit(new INDArray[] {batch[0]}, new INDArray[] {batch[1]});
      }
      long t1 = System.nanoTime();
      long inCycles = 0;
      for (int i = 0; i < TIMED_STEPS; i++) {
        g.fit(new INDArray[] {batch[0]}, new INDArray[] {batch[1]});
        long c0 = System.nanoTime();
        enorm.cycle();
        inCycles += System.nanoTime() - c0;
      }
      long t2 = System.nanoTime();
      plain[r] = (t1 - t0) / 1e6 / TIMED_STEPS;
      withEnorm[r] = (t2 - t1) / 1e6 / TIMED_STEPS;
      cycle[r] = inCycles / 1e6 / TIMED_STEPS;
    }
    TrainingKernels.restoreConfiguration(g);
    double stepMs = median(plain);
    double cycleMs = median(cycle);
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("arch", arch);
    t.put("step_ms", BenchSupport.round(stepMs, 3));
    t.put("step_enorm_ms", BenchSupport.round(median(withEnorm), 3));
    t.put("cycle_ms", BenchSupport.round(cycleMs, 3));
    t.put("cycle_vs_step", BenchSupport.round(cycleMs / stepMs, 4));
    System.out.printf(Locale.ROOT, "  timing %s batch %d: step %.2f ms, step + cycle %.2f ms, cycle %.3f ms"
        + " (%.1f%% of a step)%n", arch, cfg.batchSize(), stepMs, median(withEnorm), cycleMs,
        100 * cycleMs / stepMs);
    return t;
  }

  private static final int TIMED_STEPS = 20;
  private static final int TIMED_ROUNDS = 5;

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static Map<String, Object> row(int batch, int labels, int images, String net, String arch,
      double c, List<Outcome> runs) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("batch", batch);
    r.put("labels", labels);
    r.put("train_images", images);
    r.put("net", net);
    r.put("arch", arch);
    r.put("c", c);
    r.put("top1", BenchSupport.round(mean(runs, Outcome::top1), 4));
    r.put("top1_sd", BenchSupport.round(sd(runs, Outcome::top1), 4));
    r.put("top1_runs", runs.stream().map(o -> BenchSupport.round(o.top1(), 4)).toList());
    r.put("step_ms", BenchSupport.round(mean(runs, Outcome::stepMs), 3));
    return r;
  }

  /**
   * {@code n} training images, balanced over the classes, from {@code order} after its first
   * {@code skip} (the validation split); all of the rest when n is at least their number.
   */
  static int[] balanced(FashionMnist train, int[] order, int skip, int n) {
    int rest = order.length - skip;
    if (n >= rest) {
      return Arrays.copyOfRange(order, skip, order.length);
    }
    int perClass = Math.max(1, n / 10);
    int[] taken = new int[10];
    int[] out = new int[perClass * 10];
    int k = 0;
    for (int i = skip; i < order.length && k < out.length; i++) {
      int label = train.label(order[i]);
      if (taken[label] < perClass) {
        taken[label]++;
        out[k++] = order[i];
      }
    }
    return Arrays.copyOf(out, k);
  }


  private static double mean(List<Outcome> runs, java.util.function.ToDoubleFunction<Outcome> f) {
    return runs.stream().mapToDouble(f).average().orElse(Double.NaN);
  }

  /** Sample standard deviation (n - 1); 0 for one run. */
  private static double sd(List<Outcome> runs, java.util.function.ToDoubleFunction<Outcome> f) {
    if (runs.size() < 2) {
      return 0;
    }
    double m = mean(runs, f);
    double s = 0;
    for (Outcome o : runs) {
      double d = f.applyAsDouble(o) - m;
      s += d * d;
    }
    return Math.sqrt(s / (runs.size() - 1));
  }
}
