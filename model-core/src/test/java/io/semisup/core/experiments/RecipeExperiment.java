package io.semisup.core.experiments;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.scoring.OnnxExporter;
import io.semisup.core.scoring.OnnxScorer;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * The whole teacher/student method in one JVM and one core, for screening student recipes two at
 * a time on the 2-core machine (not a unit test, not part of the product; the pipeline's numbers
 * come from {@code bin/semisup demo}). Arguments are {@code key=value} overrides of the defaults
 * below; one TSV row per run is appended to {@code out}. The defaults are those of the first
 * screen (30-epoch teacher, docs/results.md), kept so that its rows still reproduce; the
 * pipeline's current defaults are {@code tEpochs=100 K=10000 sEpochs=8 sLr=0.05 sSmooth=0.1
 * sErase=0.5 ftEpochs=0}. {@code sTargets=soft} trains on the teacher's probabilities (sharpened
 * by {@code sTemp}) instead of one-hot labels; {@code tta=true} averages the teacher's scores
 * of each image and its mirror; {@code sMixup} is the student's mixup alpha; {@code sLabRepeat}
 * puts each labelled image that many times into the student's training set; {@code tEnsemble=n}
 * averages the pool scores of n teachers trained on the same labelled images from different
 * seeds (the student still starts from the first); {@code align=n} runs n iterations of
 * distribution alignment (class columns rescaled to equal pool mass) before each selection.
 *
 * <p>The teacher (weights and its probabilities on the pool) is cached per teacher config and
 * seed under {@code cache}, so student variations do not retrain it. Pool scoring uses the ONNX
 * export, as the pipeline does. Run with {@code OMP_NUM_THREADS=1}.
 */
public final class RecipeExperiment {

  public static void main(String[] args) throws Exception {
    // As bin/semisup at startup: DL4J's native helpers and the training kernels.
    io.semisup.core.dl4j.Dl4jPatches.install(io.semisup.core.dl4j.Dl4jPatches.Options.fromSystemProperties());
    Map<String, String> a = new LinkedHashMap<>();
    a.put("arch", "resnet-small");
    a.put("studentArch", "");
    a.put("seed", "42");
    a.put("perClass", "100");
    a.put("batch", "64");
    a.put("tEpochs", "30");
    a.put("tLr", "0.1");
    a.put("tErase", "0.0");
    a.put("sched", "onecycle");
    a.put("warmup", "0.15");
    a.put("wd", "5e-4");
    a.put("flip", "true");
    a.put("shift", "2");
    a.put("K", "2000");
    a.put("sInit", "teacher");
    a.put("sWithLab", "true");
    a.put("sEpochs", "4");
    a.put("sLr", "0.03");
    a.put("sBatch", "128");
    a.put("sSched", "onecycle");
    a.put("sSmooth", "0.0");
    a.put("sErase", "0.0");
    a.put("sShift", "");
    a.put("sMixup", "0");
    a.put("sLabRepeat", "1");
    a.put("tEnsemble", "1");
    a.put("align", "0");
    a.put("sTargets", "hard");
    a.put("sTemp", "1.0");
    a.put("tta", "false");
    a.put("ftEpochs", "10");
    a.put("ftLr", "0.01");
    a.put("ftBatch", "64");
    a.put("ftSched", "cosine");
    a.put("ftErase", "0.0");
    a.put("rounds", "1");
    a.put("tag", "");
    a.put("cache", "target/recipe-logs/cache");
    a.put("out", "target/recipe-logs/results.tsv");
    for (String s : args) {
      String[] kv = s.split("=", 2);
      if (!a.containsKey(kv[0])) {
        throw new IllegalArgumentException("Unknown key " + kv[0] + "; valid: " + a.keySet());
      }
      a.put(kv[0], kv[1]);
    }
    System.out.println("config " + a);
    long seed = Long.parseLong(a.get("seed"));
    String arch = a.get("arch");
    String studentArch = a.get("studentArch").isEmpty() ? arch : a.get("studentArch");
    InputSpec spec = FashionMnist.INPUT_SPEC;
    TrainingConfig base = new TrainingConfig(
        Integer.parseInt(a.get("tEpochs")), Integer.parseInt(a.get("batch")),
        Double.parseDouble(a.get("tLr")), a.get("sched"), Double.parseDouble(a.get("warmup")),
        0.9, Double.parseDouble(a.get("wd")), Boolean.parseBoolean(a.get("flip")),
        Integer.parseInt(a.get("shift")), Double.parseDouble(a.get("tErase")), 0.0, 0.0, seed);
    TrainingConfig studentCfg = base.withEpochs(Integer.parseInt(a.get("sEpochs")))
        .withLearningRate(Double.parseDouble(a.get("sLr")))
        .withBatchSize(Integer.parseInt(a.get("sBatch")))
        .withSchedule(a.get("sSched"), base.warmupFraction())
        .withLabelSmoothing(Double.parseDouble(a.get("sSmooth")))
        .withErase(Double.parseDouble(a.get("sErase")))
        .withMixup(Double.parseDouble(a.get("sMixup")))
        .withAugment(base.augmentFlip(), a.get("sShift").isEmpty() ? base.augmentShift() : Integer.parseInt(a.get("sShift")))
        .withSeed(seed + 1000);
    boolean soft = a.get("sTargets").equals("soft");
    double temp = Double.parseDouble(a.get("sTemp"));
    boolean tta = Boolean.parseBoolean(a.get("tta"));
    TrainingConfig ftCfg = base.withEpochs(Integer.parseInt(a.get("ftEpochs")))
        .withLearningRate(Double.parseDouble(a.get("ftLr")))
        .withBatchSize(Integer.parseInt(a.get("ftBatch")))
        .withSchedule(a.get("ftSched"), base.warmupFraction())
        .withErase(Double.parseDouble(a.get("ftErase")))
        .withSeed(seed + 2000);

    long tAll = System.nanoTime();
    FashionMnist train = FashionMnist.load(FashionMnist.DEFAULT_DIR, true);
    FashionMnist test = FashionMnist.load(FashionMnist.DEFAULT_DIR, false);
    int perClass = Integer.parseInt(a.get("perClass"));
    int[][] split = split(train, perClass, seed);
    int[] lab = split[0];
    int[] pool = split[1];
    float[][] xLab = train.chw(lab, spec);
    int[] yLab = train.labels(lab);
    int[] testIdx = new int[test.size()];
    for (int i = 0; i < testIdx.length; i++) {
      testIdx[i] = i;
    }
    float[][] xTest = test.chw(testIdx, spec);
    int[] yTest = test.labels(testIdx);
    float[][] xPool = train.chw(pool, spec);
    int[] yPool = train.labels(pool);

    // ---- teacher (cached: weights + pool probabilities) ----
    String teacherKey = String.format(Locale.ROOT,
        "%s_pc%d_e%d_b%d_lr%s_%s_w%s_wd%s_f%s_s%d_er%s_seed%d",
        arch, perClass, base.epochs(), base.batchSize(), a.get("tLr"), base.schedule(),
        a.get("warmup"), a.get("wd"), base.augmentFlip(), base.augmentShift(), a.get("tErase"),
        seed);
    Path modelFile = Path.of(a.get("cache"), teacherKey + ".zip");
    ComputationGraph teacher;
    double teacherTrainS = 0;
    if (Files.isRegularFile(modelFile)) {
      teacher = ComputationGraph.load(modelFile.toFile(), true);
      System.out.println("teacher cached: " + modelFile);
    } else {
      teacher = Architectures.build(arch, spec, 10, base);
      long t0 = System.nanoTime();
      LocalTrainer.fit(teacher, xLab, yLab, base, spec, e -> { });
      teacherTrainS = (System.nanoTime() - t0) / 1e9;
      Files.createDirectories(modelFile.getParent());
      teacher.save(modelFile.toFile(), true);
    }
    double teacherTop1 = top1(teacher, spec, xTest, yTest);
    long t0 = System.nanoTime();
    float[][] poolProbs = tta ? ttaProbs(teacher, spec, xPool) : onnxProbs(teacher, spec, xPool);
    int ensemble = Integer.parseInt(a.get("tEnsemble"));
    if (ensemble > 1) {
      // Extra teachers: same labelled images, other init/shuffle seeds; pool scores averaged.
      float[][] testSum = LocalTrainer.predict(teacher, xTest, spec);
      for (int j = 1; j < ensemble; j++) {
        TrainingConfig cj = base.withSeed(seed + 1000L * j);
        Path fj = Path.of(a.get("cache"), teacherKey + "_init" + cj.seed() + ".zip");
        ComputationGraph tj;
        if (Files.isRegularFile(fj)) {
          tj = ComputationGraph.load(fj.toFile(), true);
        } else {
          tj = Architectures.build(arch, spec, 10, cj);
          long tj0 = System.nanoTime();
          LocalTrainer.fit(tj, xLab, yLab, cj, spec, e -> { });
          teacherTrainS += (System.nanoTime() - tj0) / 1e9;
          tj.save(fj.toFile(), true);
        }
        System.out.printf("teacher %d top1 %.4f%n", j + 1, top1(tj, spec, xTest, yTest));
        float[][] pj = tta ? ttaProbs(tj, spec, xPool) : onnxProbs(tj, spec, xPool);
        float[][] tp = LocalTrainer.predict(tj, xTest, spec);
        for (int i = 0; i < poolProbs.length; i++) {
          for (int c = 0; c < 10; c++) {
            poolProbs[i][c] += pj[i][c];
          }
        }
        for (int i = 0; i < testSum.length; i++) {
          for (int c = 0; c < 10; c++) {
            testSum[i][c] += tp[i][c];
          }
        }
      }
      for (float[] row : poolProbs) {
        for (int c = 0; c < 10; c++) {
          row[c] /= ensemble;
        }
      }
      System.out.printf("ensemble of %d teachers: test top1 %.4f%n", ensemble,
          LocalTrainer.accuracy(testSum, yTest)[0]);
    }
    double scoreS = (System.nanoTime() - t0) / 1e9;
    System.out.printf("teacher top1 %.4f (train %.0fs); pool scored in %.1fs%n", teacherTop1,
        teacherTrainS, scoreS);

    int k = Integer.parseInt(a.get("K"));
    int rounds = Integer.parseInt(a.get("rounds"));
    double precision = 0;
    double studentTop1 = 0;
    double studentS = 0;
    double ftS = 0;
    double ft = 0;
    for (int round = 1; round <= rounds; round++) {
    if (Integer.parseInt(a.get("align")) > 0) {
      // Distribution alignment: scale class columns so every class gets 1/C of the pool's mass.
      int iters = Integer.parseInt(a.get("align"));
      for (int it = 0; it < iters; it++) {
        double[] mass = new double[10];
        for (float[] row : poolProbs) {
          for (int c = 0; c < 10; c++) {
            mass[c] += row[c];
          }
        }
        for (float[] row : poolProbs) {
          double sum = 0;
          for (int c = 0; c < 10; c++) {
            row[c] = (float) (row[c] * poolProbs.length / 10.0 / mass[c]);
            sum += row[c];
          }
          for (int c = 0; c < 10; c++) {
            row[c] /= (float) sum;
          }
        }
      }
      int[] argmaxCount = new int[10];
      int right = 0;
      for (int i = 0; i < poolProbs.length; i++) {
        int best = 0;
        for (int c = 1; c < 10; c++) {
          if (poolProbs[i][c] > poolProbs[i][best]) {
            best = c;
          }
        }
        argmaxCount[best]++;
        right += yPool[i] == best ? 1 : 0;
      }
      System.out.printf("aligned (%d iterations): pool argmax accuracy %.4f, per class %s%n", iters,
          right / (double) poolProbs.length, Arrays.toString(argmaxCount));
    }
    // ---- selection: P=1, top-K per argmax class, ties by index ----
    List<List<Integer>> byClass = new ArrayList<>();
    for (int c = 0; c < 10; c++) {
      byClass.add(new ArrayList<>());
    }
    for (int i = 0; i < pool.length; i++) {
      int best = 0;
      for (int c = 1; c < 10; c++) {
        if (poolProbs[i][c] > poolProbs[i][best]) {
          best = c;
        }
      }
      byClass.get(best).add(i);
    }
    StringBuilder precAtK = new StringBuilder();
    for (int kk : new int[] {1000, 2000, 3000, 4000, 5000}) {
      precAtK.append(String.format(Locale.ROOT, " P@%d=%.3f", kk,
          precision(byClass, poolProbs, yPool, kk)[0]));
    }
    System.out.println("pseudo-label precision:" + precAtK);
    List<float[]> xs = new ArrayList<>();
    List<Integer> ys = new ArrayList<>();
    List<float[]> ts = new ArrayList<>();
    int correct = 0;
    int selected = 0;
    for (int c = 0; c < 10; c++) {
      List<Integer> l = sorted(byClass.get(c), poolProbs, c);
      for (int j = 0; j < Math.min(k, l.size()); j++) {
        xs.add(xPool[l.get(j)]);
        ys.add(c);
        ts.add(soft ? sharpen(poolProbs[l.get(j)], temp) : io.semisup.core.train.Minibatch.oneHot(c, 10));
        correct += yPool[l.get(j)] == c ? 1 : 0;
        selected++;
      }
    }
    precision = correct / (double) selected;
    for (int rep = 0; rep < Integer.parseInt(a.get("sLabRepeat"))
        && Boolean.parseBoolean(a.get("sWithLab")); rep++) {
      for (int i = 0; i < xLab.length; i++) {
        xs.add(xLab[i]);
        ys.add(yLab[i]);
        ts.add(io.semisup.core.train.Minibatch.oneHot(yLab[i], 10));
      }
    }
    float[][] xSel = xs.toArray(new float[0][]);
    int[] ySel = ys.stream().mapToInt(Integer::intValue).toArray();
    System.out.printf("selected %d, precision %.4f; student trains on %d%n", selected, precision,
        xSel.length);

    // ---- student ----
    ComputationGraph student = a.get("sInit").equals("teacher")
        ? withConfig(teacher.clone(), studentArch, spec, studentCfg)
        : Architectures.build(studentArch, spec, 10, studentCfg);
    t0 = System.nanoTime();
    float[][] tSel = ts.toArray(new float[0][]);
    LocalTrainer.fit(student, xSel, tSel, studentCfg, spec,
        e -> System.out.printf("  student epoch %d %.0fs%n", e, (System.nanoTime() - tAll) / 1e9));
    studentS = (System.nanoTime() - t0) / 1e9;
    studentTop1 = top1(student, spec, xTest, yTest);
    System.out.printf("student top1 %.4f (train %.0fs)%n", studentTop1, studentS);

    // ---- fine-tune ----
    student = withConfig(student, studentArch, spec, ftCfg);
    t0 = System.nanoTime();
    LocalTrainer.fit(student, xLab, yLab, ftCfg, spec, e -> { });
    ftS = (System.nanoTime() - t0) / 1e9;
    ft = top1(student, spec, xTest, yTest);
    System.out.printf("round %d finetuned top1 %.4f (ft %.0fs); GAIN %.2f points over the first teacher%n",
        round, ft, ftS, 100 * (ft - teacherTop1));
    // Next round: the fine-tuned student is the teacher.
    teacher = student;
    poolProbs = tta ? ttaProbs(teacher, spec, xPool) : onnxProbs(teacher, spec, xPool);
    }
    double totalS = (System.nanoTime() - tAll) / 1e9;

    Path out = Path.of(a.get("out"));
    boolean header = !Files.exists(out);
    String row = String.format(Locale.ROOT,
        "%s\t%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%s%n",
        java.time.LocalTime.now().withNano(0), a.get("tag"), teacherTop1, precision, studentTop1,
        ft, 100 * (ft - teacherTop1), teacherTrainS, scoreS, studentS, ftS, totalS, a);
    Files.writeString(out,
        (header ? "time\ttag\tteacher\tprecision\tstudent\tfinetuned\tgain\tteacher_s\tscore_s"
            + "\tstudent_s\tft_s\ttotal_s\tconfig\n" : "") + row,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  /** A fresh graph with {@code cfg}'s updater and schedule carrying {@code trained}'s weights. */
  static ComputationGraph withConfig(ComputationGraph trained, String arch, InputSpec spec,
      TrainingConfig cfg) {
    ComputationGraph g = Architectures.build(arch, spec, 10, cfg);
    g.setParams(trained.params().dup());
    if (trained.getUpdater() != null && g.getUpdater() != null) {
      // fresh momentum: a new phase starts from the weights only
      g.getUpdater().getStateViewArray().assign(0);
    }
    return g;
  }

  static float[][] onnxProbs(ComputationGraph g, InputSpec spec, float[][] x) {
    try (OnnxScorer s = new OnnxScorer(new OnnxExporter(spec).toBytes(g), spec, 10)) {
      List<float[]> out = new ArrayList<>();
      for (int i = 0; i < x.length; i += 512) {
        out.addAll(Arrays.asList(s.probabilities(Arrays.copyOfRange(x, i, Math.min(x.length, i + 512)))));
      }
      return out.toArray(new float[0][]);
    }
  }

  /** Mean of the probabilities of each image and its left-right mirror. */
  static float[][] ttaProbs(ComputationGraph g, InputSpec spec, float[][] x) {
    float[][] p = onnxProbs(g, spec, x);
    float[][] m = new float[x.length][];
    int h = spec.height();
    int w = spec.width();
    for (int i = 0; i < x.length; i++) {
      m[i] = new float[x[i].length];
      for (int ch = 0; ch < spec.channels(); ch++) {
        for (int r = 0; r < h; r++) {
          for (int col = 0; col < w; col++) {
            m[i][(ch * h + r) * w + col] = x[i][(ch * h + r) * w + (w - 1 - col)];
          }
        }
      }
    }
    float[][] q = onnxProbs(g, spec, m);
    for (int i = 0; i < p.length; i++) {
      for (int c = 0; c < p[i].length; c++) {
        p[i][c] = (p[i][c] + q[i][c]) / 2;
      }
    }
    return p;
  }

  /** p^(1/T), renormalised: T < 1 sharpens the teacher's distribution, T = 1 keeps it. */
  static float[] sharpen(float[] p, double temp) {
    float[] t = new float[p.length];
    double sum = 0;
    for (int c = 0; c < p.length; c++) {
      t[c] = (float) Math.pow(Math.max(p[c], 1e-12), 1 / temp);
      sum += t[c];
    }
    for (int c = 0; c < p.length; c++) {
      t[c] /= (float) sum;
    }
    return t;
  }

  static double top1(ComputationGraph g, InputSpec spec, float[][] x, int[] y) {
    return LocalTrainer.accuracy(onnxProbs(g, spec, x), y)[0];
  }

  /** Seeded choice of {@code perClass} labelled images per class; the rest is the pool. */
  static int[][] split(FashionMnist train, int perClass, long seed) {
    List<List<Integer>> byClass = new ArrayList<>();
    for (int c = 0; c < 10; c++) {
      byClass.add(new ArrayList<>());
    }
    for (int i = 0; i < train.size(); i++) {
      byClass.get(train.label(i)).add(i);
    }
    Random rnd = new Random(seed);
    boolean[] labelled = new boolean[train.size()];
    for (List<Integer> l : byClass) {
      java.util.Collections.shuffle(l, rnd);
      for (int j = 0; j < perClass; j++) {
        labelled[l.get(j)] = true;
      }
    }
    int[] lab = new int[10 * perClass];
    int[] pool = new int[train.size() - lab.length];
    int li = 0;
    int pi = 0;
    for (int i = 0; i < train.size(); i++) {
      if (labelled[i]) {
        lab[li++] = i;
      } else {
        pool[pi++] = i;
      }
    }
    return new int[][] {lab, pool};
  }

  static List<Integer> sorted(List<Integer> idx, float[][] probs, int c) {
    List<Integer> l = new ArrayList<>(idx);
    l.sort((p, q) -> {
      int cmp = Float.compare(probs[q][c], probs[p][c]);
      return cmp != 0 ? cmp : Integer.compare(p, q);
    });
    return l;
  }

  static double[] precision(List<List<Integer>> byClass, float[][] probs, int[] y, int k) {
    int n = 0;
    int ok = 0;
    for (int c = 0; c < 10; c++) {
      List<Integer> l = sorted(byClass.get(c), probs, c);
      for (int j = 0; j < Math.min(k, l.size()); j++) {
        n++;
        ok += y[l.get(j)] == c ? 1 : 0;
      }
    }
    return new double[] {ok / (double) n, n};
  }
}
