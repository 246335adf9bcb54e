package io.semisup.jobs.bench;

import io.semisup.core.UsageError;
import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.image.Preprocessor;
import io.semisup.core.model.Architectures;
import io.semisup.core.train.FixResRefit;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.cli.RunOptions;
import io.semisup.jobs.config.FixresSettings;
import io.semisup.jobs.config.StudentSettings;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.TrainingConfigs;
import io.semisup.jobs.stages.RunContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench fixres}: does a student trained at a low resolution and fixed at the test
 * resolution (FixRes) reach the full-resolution student, and how much training time does it save?
 *
 * <p>Per seed, in one JVM (the demo recipe without Spark, so that both students are timed alike on
 * the same host): the teacher ({@code teacher} section) on the labelled images; its pseudo-labels
 * (top class of each pool image, the K most confident per class, as {@code select} with p = 1);
 * then the student ({@code student} section: warm start from the teacher, labelled images repeated,
 * label smoothing, erasing) trained twice on those same pseudo-labels, at the data's resolution and
 * at {@code --train-res}; each low-resolution student is tested at every {@code --test-res} before
 * and after {@link FixResRefit} on the labelled images (recipe from the {@code fixres} section).
 *
 * <p>Honest choice: the test resolution is the one with the best mean top-1 on a validation split
 * carved from the training images by a seeded hash (never the test set); the test set is reported
 * for that choice. The table of every train x test resolution is printed too (the paper's table).
 */
@Command(
    name = "fixres",
    mixinStandardHelpOptions = true,
    description = {
      "FixRes: the student trained at a low resolution and fixed at the test resolution vs the full-resolution student.",
      "Last line: JSON {\"train_res\", \"test_res\", \"seeds\", \"full_res_top1\", \"low_res_top1_before\","
          + " \"low_res_top1_after\", \"low_res_train_s\", \"full_res_train_s\", ...} (means over seeds)."
    })
public final class BenchFixres implements Callable<Integer> {

  @Mixin RunOptions run = new RunOptions();

  @Option(names = "--seeds", split = ",", defaultValue = "42,1,2",
      description = "Seeds of teacher, students and fixes (default: ${DEFAULT-VALUE}).")
  List<Long> seeds;

  @Option(names = "--train-res", split = ",", defaultValue = "20",
      description = "Low training resolutions; the first is the JSON's train_res (default: ${DEFAULT-VALUE}).")
  List<Integer> trainRes;

  @Option(names = "--test-res", split = ",", defaultValue = "24,28,32",
      description = "Candidate test resolutions (above 28: upsampled) (default: ${DEFAULT-VALUE}).")
  List<Integer> testRes;

  @Option(names = "--test-resize-ratio", split = ",", defaultValue = "1",
      description = "Candidate test transforms: resize to ratio x the test resolution, centre crop (1 = plain"
          + " resize; model.test-resize-ratio); chosen with the test resolution on validation (default: ${DEFAULT-VALUE}).")
  List<Double> ratios;

  @Option(names = "--profile", split = ",",
      description = "Only profile one training step at each --train-res and the data's size, at these batch"
          + " sizes (e.g. 64,128,256,512): milliseconds of crop, augmentation/packing and fit per image, interleaved;"
          + " no teacher or students are trained.")
  List<Integer> profileBatches;

  @Option(names = "--quick",
      description = "The reduced run of docs/results.md: --quick-pool pool images, K = pool / 10,"
          + " labelled images repeated --quick-repeat times, --quick-teacher-epochs and --quick-student-epochs.")
  boolean quick;

  @Option(names = "--quick-repeat", defaultValue = "3", description = "Copies of each labelled image per student epoch with --quick (default: ${DEFAULT-VALUE}).")
  int quickRepeat;

  @Option(names = "--quick-pool", defaultValue = "6000", description = "Pool images with --quick (default: ${DEFAULT-VALUE}).")
  int quickPool;

  @Option(names = "--quick-teacher-epochs", defaultValue = "15", description = "Teacher epochs with --quick (default: ${DEFAULT-VALUE}).")
  int quickTeacherEpochs;

  @Option(names = "--quick-student-epochs", defaultValue = "2", description = "Student epochs with --quick (default: ${DEFAULT-VALUE}).")
  int quickStudentEpochs;

  @Option(names = "--crop-min-area", defaultValue = "0",
      description = "RandomResizedCrop for both students: area fraction uniform in [a, 1] (0 = off: the"
          + " whole image resized, as the demo) (default: ${DEFAULT-VALUE}).")
  double cropMinArea;

  @Option(names = "--val", defaultValue = "2000",
      description = "Training images held out (seeded hash) as the validation split (default: ${DEFAULT-VALUE}).")
  int val;

  @Option(names = "--test-images", defaultValue = "10000", description = "Test images evaluated (default: ${DEFAULT-VALUE}, all).")
  int testImages;

  @Option(names = "--fashion-mnist-dir", description = "IDX files (default: data.fashion-mnist-dir).")
  Path idxDir;

  private static final InputSpec DATA = FashionMnist.INPUT_SPEC;
  private static final int SIDE = FashionMnist.SIDE;

  @Override
  public Integer call() throws Exception {
    SemisupConfig config = run.load();
    Path dir = BenchSupport.fashionMnistDir(idxDir, config);
    if (cropMinArea < 0 || cropMinArea > 1) {
      throw new UsageError("Cannot crop with --crop-min-area " + cropMinArea + ": use 0 (off) or a fraction in (0, 1]");
    }
    if (seeds.isEmpty() || trainRes.isEmpty() || testRes.isEmpty()) {
      throw new UsageError("Cannot benchmark nothing: --seeds, --train-res and --test-res need a value each");
    }
    for (double q : ratios) {
      if (!(q >= 1 && q <= 2)) {
        throw new UsageError("Cannot use --test-resize-ratio " + q + ": use 1 (plain resize) to 2");
      }
    }
    for (int r : concat(trainRes, testRes)) {
      if (r < 8 || r > 64) {
        throw new UsageError("Cannot use resolution " + r + " (--train-res/--test-res): use 8 to 64 pixels");
      }
    }
    StudentSettings student = config.settings().student();
    if (!config.settings().studentWarmStart() || !config.settings().model().studentArchitecture()
        .equals(config.settings().model().teacherArchitecture())) {
      throw new UsageError("Cannot run bench fixres with student.init=" + student.init()
          + ": it benchmarks the demo recipe (student.init=teacher, one architecture)");
    }
    FixresSettings fix = config.settings().fixres();
    FashionMnist train = FashionMnist.load(dir, true);
    if (profileBatches != null && !profileBatches.isEmpty()) {
      return profile(config, train);
    }
    FashionMnist test = FashionMnist.load(dir, false);
    int perClass = config.settings().data().labelledPerClass();
    Split split = Split.of(train, val, perClass, quick ? quickPool : Integer.MAX_VALUE);
    int k = quick ? Math.max(1, split.pool().length / 10) : config.settings().select().k();
    int repeat = student.withLabelled() ? (quick ? quickRepeat : student.labelledRepeat()) : 0;
    int[] testIdx = new int[Math.min(testImages, test.size())];
    Arrays.setAll(testIdx, i -> i);
    String arch = config.settings().model().studentArchitecture();
    System.out.printf(Locale.ROOT, "bench fixres: %s, seeds %s, train res %s vs %d, test res %s x ratio %s, labelled %d,"
            + " pool %d, K %d, labelled x%d, val %d, test %d, crop-min-area %s%s, load %.1f%n",
        arch, seeds, trainRes, SIDE, testRes, ratios, split.labelled().length, split.pool().length, k, repeat,
        split.val().length, testIdx.length, cropMinArea, quick ? " (quick)" : "", BenchSupport.loadAverage());

    // res -> (test res, ratio) -> per-seed outcomes; full resolution under SIDE.
    Map<Integer, Map<Cell, List<double[]>>> table = new TreeMap<>();
    Map<Integer, List<Double>> trainSeconds = new TreeMap<>();
    List<Integer> allTrain = concat(trainRes, List.of(SIDE));
    for (long seed : seeds) {
      TrainingConfig teacherCfg = TrainingConfigs.from(config.settings().teacher().train(), seed);
      if (quick) {
        teacherCfg = teacherCfg.withEpochs(quickTeacherEpochs);
      }
      float[][] xLab = images(train, split.labelled(), SIDE);
      int[] yLab = train.labels(split.labelled());
      ComputationGraph teacher = Architectures.build(config.settings().model().teacherArchitecture(), DATA, 10, teacherCfg);
      double t0 = seconds(LocalTrainer.fit(teacher, xLab, yLab, teacherCfg, DATA, null));
      int[][] pseudo = pseudoLabels(teacher, images(train, split.pool(), SIDE), split.pool(), k);
      double pseudoPrecision = precision(train, pseudo);
      double teacherTop1 = top1(teacher, test, testIdx, SIDE, 1);
      System.out.printf(Locale.ROOT, "seed %d: teacher %.1f s, test top-1 %.4f; %d pseudo-labels, precision %.4f%n",
          seed, t0, teacherTop1, pseudo[0].length, pseudoPrecision);
      TrainingConfig studentCfg = TrainingConfigs.from(student.train(), seed);
      if (quick) {
        studentCfg = studentCfg.withEpochs(quickStudentEpochs);
      }
      for (int res : allTrain) {
        int[] idx = studentSet(pseudo[0], split.labelled(), repeat);
        int[] y = concatLabels(pseudo[1], yLab, repeat);
        InputSpec spec = DATA.withSize(res, res);
        ComputationGraph s = teacher.clone();
        // With the crop: images at the data's size, cropped and resized to res every epoch.
        double secs = cropMinArea > 0
            ? seconds(LocalTrainer.fit(s, images(train, idx, SIDE), y, studentCfg, DATA,
                new io.semisup.core.image.RandomResizedCrop(cropMinArea, res, res), null))
            : seconds(LocalTrainer.fit(s, images(train, idx, res), y, studentCfg, spec, null));
        trainSeconds.computeIfAbsent(res, r -> new ArrayList<>()).add(secs);
        Map<Cell, List<double[]>> row = table.computeIfAbsent(res, r -> new TreeMap<>());
        for (int t : concat(List.of(res), testRes)) {
          for (double q : ratios) {
            // The fix trains through the test transform it is tested with (FixRes).
            ComputationGraph fixed = new FixResRefit(s).fix(images(train, split.labelled(), t, q), yLab,
                new long[] {1, t, t}, new FixResRefit.Recipe(fix.epochs(), fix.batchSize(), fix.learningRate(),
                    fix.momentum(), fix.weightDecay(), seed), null);
            double[] o = {
              top1(s, train, split.val(), t, q), top1(s, test, testIdx, t, q),
              top1(fixed, train, split.val(), t, q), top1(fixed, test, testIdx, t, q)};
            row.computeIfAbsent(new Cell(t, q), x -> new ArrayList<>()).add(o);
            System.out.printf(Locale.ROOT, "  student train %2d (%.1f s) test %2d ratio %.3f: val %.4f -> %.4f fixed,"
                + " test %.4f -> %.4f fixed%n", res, secs, t, q, o[0], o[2], o[1], o[3]);
          }
        }
      }
    }

    // Whole runs are minutes apart on a shared host: the step-time ratio, interleaved, is the
    // load-proof figure of what the lower resolution saves.
    double[] stepMs = interleavedStepMs(config, train, split.labelled(), trainRes.get(0));
    List<Map<String, Object>> rows = new ArrayList<>();
    for (var byTrain : table.entrySet()) {
      for (var byTest : byTrain.getValue().entrySet()) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("train_res", byTrain.getKey());
        r.put("test_res", byTest.getKey().res());
        r.put("test_resize_ratio", byTest.getKey().ratio());
        r.put("val_before", BenchSupport.round(mean(byTest.getValue(), 0), 4));
        r.put("val_after", BenchSupport.round(mean(byTest.getValue(), 2), 4));
        r.put("test_before", BenchSupport.round(mean(byTest.getValue(), 1), 4));
        r.put("test_after", BenchSupport.round(mean(byTest.getValue(), 3), 4));
        rows.add(r);
      }
    }
    int low = trainRes.get(0);
    Cell chosen = bestOnValidation(table.get(low));
    List<double[]> lowAtChosen = table.get(low).get(chosen);
    // The full-resolution student at its own resolution, with the plain resize (the demo's).
    List<double[]> full = table.get(SIDE).get(table.get(SIDE).containsKey(new Cell(SIDE, 1.0))
        ? new Cell(SIDE, 1.0) : new Cell(SIDE, ratios.get(0)));
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("train_res", low);
    json.put("test_res", chosen.res());
    json.put("test_resize_ratio", chosen.ratio());
    json.put("seeds", seeds.size());
    json.put("full_res_top1", BenchSupport.round(mean(full, 1), 4));
    json.put("low_res_top1_before", BenchSupport.round(mean(lowAtChosen, 1), 4));
    json.put("low_res_top1_after", BenchSupport.round(mean(lowAtChosen, 3), 4));
    json.put("low_res_train_s", BenchSupport.round(avg(trainSeconds.get(low)), 1));
    json.put("full_res_train_s", BenchSupport.round(avg(trainSeconds.get(SIDE)), 1));
    json.put("low_res_top1_at_train_res", BenchSupport.round(mean(table.get(low).get(new Cell(low, ratios.get(0))), 1), 4));
    json.put("low_res_step_ms", BenchSupport.round(stepMs[0], 1));
    json.put("full_res_step_ms", BenchSupport.round(stepMs[1], 1));
    json.put("step_ratio", BenchSupport.round(stepMs[0] / stepMs[1], 3));
    json.put("quick", quick);
    json.put("crop_min_area", cropMinArea);
    json.put("table", rows);
    json.put("load_average", BenchSupport.round(BenchSupport.loadAverage(), 2));
    System.out.println(RunContext.json().writeValueAsString(json));
    return 0;
  }

  /**
   * Median milliseconds of one student training step at {@code low} and at the data's size,
   * measured in alternating blocks on one network (the same minibatch of labelled images), so
   * that the load of a shared host hits both alike.
   */
  private double[] interleavedStepMs(SemisupConfig config, FashionMnist train, int[] labelled, int low) {
    TrainingConfig cfg = TrainingConfigs.from(config.settings().student().train(), seeds.get(0));
    int batch = Math.min(cfg.batchSize(), labelled.length);
    int[] idx = Arrays.copyOf(labelled, batch);
    int[] y = train.labels(idx);
    ComputationGraph g = Architectures.build(config.settings().model().studentArchitecture(), DATA, 10, cfg);
    int[] sides = {low, SIDE};
    org.nd4j.linalg.api.ndarray.INDArray[][] batches = new org.nd4j.linalg.api.ndarray.INDArray[2][];
    for (int k = 0; k < 2; k++) {
      batches[k] = io.semisup.core.train.Minibatch.pack(images(train, idx, sides[k]), y,
          DATA.withSize(sides[k], sides[k]), 10, io.semisup.core.image.Augmenter.NONE, 0, new java.util.Random(1));
    }
    io.semisup.core.dl4j.TrainingKernels.install(g);
    double[][] ms = new double[2][TIMED_ROUNDS];
    try {
      for (int k = 0; k < 2; k++) { // warm-up
        g.fit(new org.nd4j.linalg.api.ndarray.INDArray[] {batches[k][0]}, new org.nd4j.linalg.api.ndarray.INDArray[] {batches[k][1]});
      }
      for (int r = 0; r < TIMED_ROUNDS; r++) {
        for (int k = 0; k < 2; k++) {
          long t0 = System.nanoTime();
          for (int i = 0; i < TIMED_STEPS; i++) {
            g.fit(new org.nd4j.linalg.api.ndarray.INDArray[] {batches[k][0]}, new org.nd4j.linalg.api.ndarray.INDArray[] {batches[k][1]});
          }
          ms[k][r] = (System.nanoTime() - t0) / 1e6 / TIMED_STEPS;
        }
      }
    } finally {
      io.semisup.core.dl4j.TrainingKernels.restoreConfiguration(g);
    }
    double lowMs = median(ms[0]);
    double fullMs = median(ms[1]);
    System.out.printf(Locale.ROOT, "step time, interleaved, batch %d: %d px %.1f ms, %d px %.1f ms (ratio %.3f)%n",
        batch, low, lowMs, SIDE, fullMs, lowMs / fullMs);
    return new double[] {lowMs, fullMs};
  }

  /**
   * Where a training step's time goes at each resolution and batch size: the RandomResizedCrop
   * (with {@code --crop-min-area}), the augmentation and packing into a minibatch (the student's
   * flips, shifts, erasing, label smoothing) and the SGD step itself, per image, in rounds that
   * alternate resolutions and batch sizes on one network so that a shared host's load hits all
   * alike. A per-step cost that does not shrink with the image shows as a per-image fit time
   * falling with the batch size.
   */
  private int profile(SemisupConfig config, FashionMnist train) {
    TrainingConfig cfg = TrainingConfigs.from(config.settings().student().train(), seeds.get(0));
    int maxBatch = profileBatches.stream().mapToInt(Integer::intValue).max().orElseThrow();
    int[] idx = new int[maxBatch];
    Arrays.setAll(idx, i -> i);
    int[] y = train.labels(idx);
    float[][] full = images(train, idx, SIDE);
    List<Integer> sides = concat(trainRes, List.of(SIDE));
    Map<Integer, float[][]> resized = new TreeMap<>();
    for (int side : sides) {
      resized.put(side, images(train, idx, side));
    }
    ComputationGraph g = Architectures.build(config.settings().model().studentArchitecture(), DATA, 10, cfg);
    io.semisup.core.dl4j.TrainingKernels.install(g);
    int cells = sides.size() * profileBatches.size();
    double[][][] ms = new double[cells][3][TIMED_ROUNDS];
    System.out.printf(Locale.ROOT, "profile: %s, student recipe (%s), crop-min-area %s, load %.1f%n",
        config.settings().model().studentArchitecture(), cfg, cropMinArea, BenchSupport.loadAverage());
    try {
      for (int r = -1; r < TIMED_ROUNDS; r++) { // round -1 warms up
        for (int c = 0; c < cells; c++) {
          int side = sides.get(c / profileBatches.size());
          int b = profileBatches.get(c % profileBatches.size());
          double[] t = profileStep(g, cfg, full, resized.get(side), y, side, b, new java.util.Random(r * 31L + c));
          if (r >= 0) {
            for (int k = 0; k < 3; k++) {
              ms[c][k][r] = t[k];
            }
          }
        }
      }
    } finally {
      io.semisup.core.dl4j.TrainingKernels.restoreConfiguration(g);
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    System.out.println("| res | batch | crop ms/img | pack ms/img | fit ms/img | total ms/img |");
    System.out.println("|---|---|---|---|---|---|");
    for (int c = 0; c < cells; c++) {
      int side = sides.get(c / profileBatches.size());
      int b = profileBatches.get(c % profileBatches.size());
      double crop = median(ms[c][0]) / b;
      double pack = median(ms[c][1]) / b;
      double fit = median(ms[c][2]) / b;
      System.out.printf(Locale.ROOT, "| %d | %d | %.3f | %.3f | %.3f | %.3f |%n", side, b, crop, pack, fit, crop + pack + fit);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("res", side);
      row.put("batch", b);
      row.put("crop_ms_per_image", BenchSupport.round(crop, 4));
      row.put("pack_ms_per_image", BenchSupport.round(pack, 4));
      row.put("fit_ms_per_image", BenchSupport.round(fit, 4));
      rows.add(row);
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("profile", rows);
    json.put("crop_min_area", cropMinArea);
    json.put("load_average", BenchSupport.round(BenchSupport.loadAverage(), 2));
    try {
      System.out.println(RunContext.json().writeValueAsString(json));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    return 0;
  }

  /** Milliseconds of {crop, pack, fit} for one minibatch of {@code b} images at {@code side}. */
  private double[] profileStep(ComputationGraph g, TrainingConfig cfg, float[][] full, float[][] atSide, int[] y,
      int side, int b, java.util.Random rnd) {
    long t0 = System.nanoTime();
    float[][] bx = new float[b][];
    InputSpec spec = DATA.withSize(side, side);
    if (cropMinArea > 0) {
      io.semisup.core.image.RandomResizedCrop crop = new io.semisup.core.image.RandomResizedCrop(cropMinArea, side, side);
      for (int k = 0; k < b; k++) {
        bx[k] = crop.apply(full[k], DATA, rnd);
      }
    } else {
      // Without the crop the images are resized once before training: no per-step cost.
      System.arraycopy(atSide, 0, bx, 0, b);
    }
    long t1 = System.nanoTime();
    int[] by = Arrays.copyOf(y, b);
    org.nd4j.linalg.api.ndarray.INDArray[] batch = io.semisup.core.train.Minibatch.pack(bx, by, spec, 10,
        cfg.augmenter(), cfg.labelSmoothing(), cfg.mixup(), rnd);
    long t2 = System.nanoTime();
    g.fit(new org.nd4j.linalg.api.ndarray.INDArray[] {batch[0]}, new org.nd4j.linalg.api.ndarray.INDArray[] {batch[1]});
    g.score(); // the trainer reads the loss every step
    long t3 = System.nanoTime();
    batch[0].close();
    batch[1].close();
    return new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6};
  }

  private static final int TIMED_ROUNDS = 5;
  private static final int TIMED_STEPS = 4;

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  /** A test transform: resolution and resize ratio; ordered by resolution, then ratio. */
  record Cell(int res, double ratio) implements Comparable<Cell> {
    @Override
    public int compareTo(Cell o) {
      return res != o.res ? Integer.compare(res, o.res) : Double.compare(ratio, o.ratio);
    }
  }

  /** The test transform whose fixed model has the best mean validation top-1 (ties: the first). */
  static Cell bestOnValidation(Map<Cell, List<double[]>> byTest) {
    Cell best = null;
    double bestVal = -1;
    for (var e : byTest.entrySet()) {
      double v = mean(e.getValue(), 2);
      if (v > bestVal) {
        bestVal = v;
        best = e.getKey();
      }
    }
    return best;
  }

  /**
   * Validation (a seeded hash of the image index picks about {@code val} images), then the
   * labelled images ({@code perClass} per class) and the pool (the rest, at most {@code poolMax}).
   */
  record Split(int[] val, int[] labelled, int[] pool) {
    static Split of(FashionMnist train, int val, int perClass, int poolMax) {
      double share = (double) val / train.size();
      List<Integer> v = new ArrayList<>();
      List<Integer> lab = new ArrayList<>();
      List<Integer> pool = new ArrayList<>();
      int[] taken = new int[10];
      for (int i = 0; i < train.size(); i++) {
        if (unit(i) < share) {
          v.add(i);
        } else if (taken[train.label(i)] < perClass) {
          taken[train.label(i)]++;
          lab.add(i);
        } else if (pool.size() < poolMax) {
          pool.add(i);
        }
      }
      return new Split(ints(v), ints(lab), ints(pool));
    }

    /** A seeded hash of an index to [0, 1). */
    static double unit(int i) {
      long h = (i + 0x5DEECE66DL) * 0x9E3779B97F4A7C15L;
      h ^= h >>> 29;
      h *= 0xBF58476D1CE4E5B9L;
      h ^= h >>> 32;
      return (h >>> 11) * 0x1.0p-53;
    }
  }

  /** Pool positions and classes of the K most confident images per top class: {indices, labels}. */
  static int[][] pseudoLabels(ComputationGraph teacher, float[][] xPool, int[] pool, int k) {
    float[][] probs = LocalTrainer.predict(teacher, xPool, DATA);
    List<List<int[]>> byClass = new ArrayList<>();
    for (int c = 0; c < 10; c++) {
      byClass.add(new ArrayList<>());
    }
    float[] score = new float[pool.length];
    for (int i = 0; i < pool.length; i++) {
      int top = 0;
      for (int c = 1; c < probs[i].length; c++) {
        if (probs[i][c] > probs[i][top]) {
          top = c;
        }
      }
      score[i] = probs[i][top];
      byClass.get(top).add(new int[] {i, top});
    }
    List<Integer> idx = new ArrayList<>();
    List<Integer> lab = new ArrayList<>();
    for (List<int[]> cls : byClass) {
      // Score descending, then image ascending: the order select uses.
      cls.sort((a, b) -> Float.compare(score[b[0]], score[a[0]]) != 0
          ? Float.compare(score[b[0]], score[a[0]]) : Integer.compare(pool[a[0]], pool[b[0]]));
      for (int j = 0; j < Math.min(k, cls.size()); j++) {
        idx.add(pool[cls.get(j)[0]]);
        lab.add(cls.get(j)[1]);
      }
    }
    return new int[][] {ints(idx), ints(lab)};
  }

  private static double precision(FashionMnist train, int[][] pseudo) {
    int ok = 0;
    for (int i = 0; i < pseudo[0].length; i++) {
      ok += train.label(pseudo[0][i]) == pseudo[1][i] ? 1 : 0;
    }
    return (double) ok / Math.max(1, pseudo[0].length);
  }

  private static int[] studentSet(int[] pseudo, int[] labelled, int repeat) {
    int[] out = Arrays.copyOf(pseudo, pseudo.length + labelled.length * repeat);
    for (int r = 0; r < repeat; r++) {
      System.arraycopy(labelled, 0, out, pseudo.length + r * labelled.length, labelled.length);
    }
    return out;
  }

  private static int[] concatLabels(int[] pseudo, int[] labelled, int repeat) {
    return studentSet(pseudo, labelled, repeat);
  }

  /** Images {@code idx} bilinearly resized to {@code res} (the plain resize; training's input). */
  static float[][] images(FashionMnist data, int[] idx, int res) {
    return images(data, idx, res, 1);
  }

  /** Images {@code idx} through the test transform at {@code res} (what score and evaluate do). */
  static float[][] images(FashionMnist data, int[] idx, int res, double ratio) {
    Preprocessor p = new Preprocessor(DATA.withSize(res, res).withResizeRatio(ratio));
    float[][] out = new float[idx.length][];
    for (int i = 0; i < idx.length; i++) {
      out[i] = p.toChw(data.pixels(idx[i]), SIDE, SIDE);
    }
    return out;
  }

  private static double top1(ComputationGraph g, FashionMnist data, int[] idx, int res, double ratio) {
    return LocalTrainer.accuracy(LocalTrainer.predict(g, images(data, idx, res, ratio), DATA.withSize(res, res)),
        data.labels(idx))[0];
  }

  private static double seconds(List<LocalTrainer.EpochStats> stats) {
    return stats.stream().mapToDouble(LocalTrainer.EpochStats::seconds).sum();
  }

  private static double mean(List<double[]> runs, int field) {
    return runs.stream().mapToDouble(o -> o[field]).average().orElse(Double.NaN);
  }

  private static double avg(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  private static List<Integer> concat(List<Integer> a, List<Integer> b) {
    List<Integer> out = new ArrayList<>(a);
    for (int x : b) {
      if (!out.contains(x)) {
        out.add(x);
      }
    }
    return out;
  }

  private static int[] ints(List<Integer> v) {
    return v.stream().mapToInt(Integer::intValue).toArray();
  }
}
