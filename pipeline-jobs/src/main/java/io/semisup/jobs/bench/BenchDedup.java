package io.semisup.jobs.bench;

import static io.semisup.jobs.bench.BenchSupport.round;

import io.semisup.core.UsageError;
import io.semisup.core.data.FashionMnist;
import io.semisup.core.dedup.Calibration;
import io.semisup.core.dedup.CopyAlterations;
import io.semisup.core.dedup.Embeddings;
import io.semisup.core.dedup.ExactSearch;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.model.GlobalPool;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.cli.RunOptions;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.stages.RunContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench dedup}: are altered copies of test images planted in the unlabelled pool found,
 * and by which embedding?
 *
 * <p>The pool is {@code --pool} Fashion-MNIST training images the teachers never saw plus one
 * altered copy ({@link CopyAlterations}: crop, rescale, flip, rotation, jitter, border or text,
 * JPEG) of each of {@code --planted} test images, and of {@code --calibration} other test images
 * for the calibration set. The references are {@code --references} test images, the sources
 * among them. Each pool image's best reference by cosine similarity ({@link ExactSearch}); the
 * threshold of each method is the one of highest recall at precision >= {@code --precision} on
 * the calibration copies and half of the clean pool ({@link Calibration}), and recall and
 * precision are measured at it on the planted copies and the other half. Methods, in one run:
 * raw pixels (mean-removed, normalised), the average-pooling teacher's embedding, the GeM
 * teacher's embedding (same architecture, recipe and seed), and the pipeline's method: the GeM
 * embedding against the references and their horizontal mirrors (references are few, so
 * embedding them twice costs nothing per pool image). Both teachers are trained here on
 * {@code --train-images} labelled images, seeded. MultiGrain's objective is not built: its
 * field is null.
 */
@Command(
    name = "dedup",
    mixinStandardHelpOptions = true,
    description = {
      "Planted altered copies of test images in the pool: recall and precision of GeM embeddings vs baselines.",
      "Last line: JSON {\"planted\", \"recall\", \"precision\", \"threshold\", \"pixel_recall\","
          + " \"avgpool_recall\", \"gem_recall\", \"multigrain_recall\", \"pairs_per_s\", ...}."
    })
public final class BenchDedup implements Callable<Integer> {

  @Mixin RunOptions run = new RunOptions();

  @Option(names = "--planted", defaultValue = "500",
      description = "Altered copies of test images measured (default: ${DEFAULT-VALUE}).")
  int planted;

  @Option(names = "--calibration", defaultValue = "300",
      description = "Other altered copies the thresholds are chosen on (default: ${DEFAULT-VALUE}).")
  int calibration;

  @Option(names = "--pool", defaultValue = "4000",
      description = "Clean unlabelled training images in the pool, half for calibration (default: ${DEFAULT-VALUE}).")
  int pool;

  @Option(names = "--references", defaultValue = "2000",
      description = "Test images searched against, the copies' sources among them (default: ${DEFAULT-VALUE}).")
  int references;

  @Option(names = "--train-images", defaultValue = "10000",
      description = "Labelled training images of the two teachers (default: ${DEFAULT-VALUE}).")
  int trainImages;

  @Option(names = "--epochs", defaultValue = "4",
      description = "Teacher epochs (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--arch", defaultValue = "resnet-small",
      description = "Teacher architecture (default: ${DEFAULT-VALUE}).")
  String arch;

  @Option(names = "--gem-p", defaultValue = "3", description = "GeM exponent (default: ${DEFAULT-VALUE}).")
  double gemP;

  @Option(names = "--precision", defaultValue = "0.99",
      description = "Precision every method's threshold must reach on the calibration set (default: ${DEFAULT-VALUE}).")
  double minPrecision;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of everything (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--fashion-mnist-dir", description = "IDX files (default: data.fashion-mnist-dir).")
  Path idxDir;

  private static final InputSpec SPEC = FashionMnist.INPUT_SPEC;
  private static final int SIDE = FashionMnist.SIDE;

  @Override
  public Integer call() throws Exception {
    SemisupConfig config = run.load();
    Path dir = idxDir != null ? idxDir : Path.of(config.getString("data.fashion-mnist-dir"));
    if (!Files.isDirectory(dir)) {
      throw new UsageError("Cannot read Fashion-MNIST from " + dir
          + ": not a directory. Install it: apt-get install -y dataset-fashion-mnist");
    }
    if (!Architectures.names().contains(arch)) {
      throw new UsageError("Cannot benchmark --arch " + arch + ": valid names are " + Architectures.names());
    }
    if (planted + calibration > references || planted < 1 || calibration < 1 || pool < 2) {
      throw new UsageError("Cannot plant " + planted + " + " + calibration + " copies of "
          + references + " references into a pool of " + pool
          + ": need --planted + --calibration <= --references, both >= 1, --pool >= 2");
    }
    FashionMnist train = FashionMnist.load(dir, true);
    FashionMnist test = FashionMnist.load(dir, false);
    if (trainImages + pool > train.size() || references > test.size()) {
      throw new UsageError("Cannot take --train-images + --pool = " + (trainImages + pool)
          + " of " + train.size() + " training images or --references " + references + " of "
          + test.size() + " test images");
    }
    int[] trainOrder = permutation(train.size(), new Random(seed));
    int[] testOrder = permutation(test.size(), new Random(seed + 1));
    int[] labelled = Arrays.copyOf(trainOrder, trainImages);
    int[] clean = Arrays.copyOfRange(trainOrder, trainImages, trainImages + pool);
    int[] refIdx = Arrays.copyOf(testOrder, references);

    // The pool: clean images, then the measured copies (sources refs 0..planted-1), then the
    // calibration copies (sources planted..planted+calibration-1).
    Random alter = new Random(seed + 2);
    int n = pool + planted + calibration;
    float[][] poolChw = new float[n][];
    int[] source = new int[n];
    Arrays.fill(source, -1);
    for (int i = 0; i < pool; i++) {
      poolChw[i] = train.chw(clean[i], SPEC);
    }
    Map<String, Integer> overlays = new LinkedHashMap<>();
    CopyAlterations.Applied[] applied = new CopyAlterations.Applied[1];
    for (int c = 0; c < planted + calibration; c++) {
      byte[] copy = CopyAlterations.alter(test.pixels(refIdx[c]), SIDE, alter, applied);
      poolChw[pool + c] = chw(copy);
      source[pool + c] = c;
      overlays.merge(applied[0].overlay(), 1, Integer::sum);
    }
    float[][] refChw = test.chw(refIdx, SPEC);
    float[][] refMirror = new float[references][];
    for (int r = 0; r < references; r++) {
      refMirror[r] = mirror(refChw[r]);
    }
    boolean[] inCalibration = new boolean[n];
    for (int i = 0; i < n; i++) {
      inCalibration[i] = i < pool / 2 || i >= pool + planted;
    }
    System.out.printf(Locale.ROOT, "bench dedup: %s, %d labelled images, %d epochs, pool %d clean"
            + " + %d planted + %d calibration copies (overlays %s), %d references, precision >= %.3f,"
            + " load %.1f%n", arch, trainImages, epochs, pool, planted, calibration, overlays,
        references, minPrecision, BenchSupport.loadAverage());

    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(epochs).withSeed(seed);
    float[][] xTrain = train.chw(labelled, SPEC);
    int[] yTrain = train.labels(labelled);
    int[] allTest = new int[test.size()];
    Arrays.setAll(allTest, i -> i);
    float[][] xTest = test.chw(allTest, SPEC);
    int[] yTest = test.labels(allTest);
    Map<String, Object> top1 = new LinkedHashMap<>();
    ComputationGraph avg = teacher(GlobalPool.AVG, cfg, xTrain, yTrain, xTest, yTest, top1);
    ComputationGraph gem = teacher(GlobalPool.gem(gemP), cfg, xTrain, yTrain, xTest, yTest, top1);

    Map<String, Object> methods = new LinkedHashMap<>();
    Result pixels = measure("pixels", Embeddings.pixels(refChw), null, Embeddings.pixels(poolChw),
        source, inCalibration, methods);
    Result avgPool = measure("avgpool", Embeddings.of(avg, refChw, SPEC), null,
        Embeddings.of(avg, poolChw, SPEC), source, inCalibration, methods);
    float[][] gemRefs = Embeddings.of(gem, refChw, SPEC);
    float[][] gemPool = Embeddings.of(gem, poolChw, SPEC);
    Result gemPlain = measure("gem", gemRefs, null, gemPool, source, inCalibration, methods);
    Result gemMirrored = measure("gem+mirrored-references", gemRefs, Embeddings.of(gem, refMirror, SPEC),
        gemPool, source, inCalibration, methods);

    // Exact search speed: every pool image against references and mirrors, median of 5.
    ExactSearch search = new ExactSearch(concat(gemRefs, Embeddings.of(gem, refMirror, SPEC)));
    double[] secs = new double[5];
    for (int r = 0; r < secs.length; r++) {
      long t0 = System.nanoTime();
      search.best(gemPool);
      secs[r] = (System.nanoTime() - t0) / 1e9;
    }
    Arrays.sort(secs);
    double pairsPerS = (double) n * search.size() / secs[secs.length / 2];
    // Embedding cost per image, for scale: the forward pass the scoring pass runs anyway.
    long e0 = System.nanoTime();
    Embeddings.of(gem, poolChw, SPEC);
    double embedMsPerImage = (System.nanoTime() - e0) / 1e6 / n;

    Map<String, Object> json = new LinkedHashMap<>();
    json.put("planted", planted);
    json.put("recall", round(gemMirrored.eval.recall(), 4));
    json.put("precision", round(gemMirrored.eval.precision(), 4));
    json.put("threshold", round(gemMirrored.calibrated.threshold(), 4));
    json.put("pixel_recall", round(pixels.eval.recall(), 4));
    json.put("avgpool_recall", round(avgPool.eval.recall(), 4));
    json.put("gem_recall", round(gemPlain.eval.recall(), 4));
    json.put("multigrain_recall", null);
    json.put("pairs_per_s", round(pairsPerS, 0));
    json.put("method", "gem+mirrored-references");
    json.put("target_precision", minPrecision);
    json.put("methods", methods);
    json.put("teacher_top1", top1);
    json.put("embedding_dim", gemRefs[0].length);
    json.put("embed_ms_per_image", round(embedMsPerImage, 4));
    json.put("calibration", calibration);
    json.put("clean_pool", pool);
    json.put("references", references);
    json.put("load_average", round(BenchSupport.loadAverage(), 2));
    System.out.println(RunContext.json().writeValueAsString(json));
    return 0;
  }

  /** A method's threshold chosen on calibration and its outcome on the measured items. */
  record Result(Calibration.Point calibrated, Calibration.Point eval) {}

  private Result measure(String name, float[][] refs, float[][] mirrors, float[][] poolVecs,
      int[] source, boolean[] inCalibration, Map<String, Object> methods) {
    float[][] all = mirrors == null ? refs : concat(refs, mirrors);
    ExactSearch.Match[] best = new ExactSearch(all).best(poolVecs);
    int cal = 0;
    for (boolean b : inCalibration) {
      cal += b ? 1 : 0;
    }
    Calibration.Item[] calItems = new Calibration.Item[cal];
    Calibration.Item[] evalItems = new Calibration.Item[poolVecs.length - cal];
    int ci = 0;
    int ei = 0;
    for (int i = 0; i < poolVecs.length; i++) {
      int matched = best[i].index() % refs.length;
      Calibration.Item it = new Calibration.Item(best[i].similarity(), source[i] >= 0,
          source[i] >= 0 && matched == source[i]);
      if (inCalibration[i]) {
        calItems[ci++] = it;
      } else {
        evalItems[ei++] = it;
      }
    }
    Calibration.Point picked = Calibration.pick(calItems, minPrecision);
    Calibration.Point eval = Calibration.at(evalItems, picked.threshold());
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("threshold", round(picked.threshold(), 4));
    m.put("calibration_recall", round(picked.recall(), 4));
    m.put("recall", round(eval.recall(), 4));
    m.put("precision", round(eval.precision(), 4));
    m.put("flagged", eval.flagged());
    methods.put(name, m);
    System.out.printf(Locale.ROOT, "  %-26s threshold %.4f (calibration recall %.4f): recall %.4f,"
            + " precision %.4f, %d flagged%n", name, picked.threshold(), picked.recall(), eval.recall(),
        eval.precision(), eval.flagged());
    return new Result(picked, eval);
  }

  private ComputationGraph teacher(GlobalPool pool, TrainingConfig cfg, float[][] x, int[] y,
      float[][] xTest, int[] yTest, Map<String, Object> top1) {
    long t0 = System.nanoTime();
    ComputationGraph g = Architectures.build(arch, SPEC, 10, cfg, pool);
    LocalTrainer.fit(g, x, y, cfg, SPEC, null);
    double acc = LocalTrainer.accuracy(LocalTrainer.predict(g, xTest, SPEC), yTest)[0];
    top1.put(pool.kind(), round(acc, 4));
    System.out.printf(Locale.ROOT, "  teacher %s (%s): test top-1 %.4f, %.0f s%n", arch, pool, acc,
        (System.nanoTime() - t0) / 1e9);
    return g;
  }

  private static float[] chw(byte[] grey) {
    float mean = SPEC.mean()[0];
    float std = SPEC.std()[0];
    float[] out = new float[grey.length];
    for (int k = 0; k < grey.length; k++) {
      out[k] = ((grey[k] & 0xFF) / 255f - mean) / std;
    }
    return out;
  }

  private static float[] mirror(float[] chw) {
    float[] out = new float[chw.length];
    for (int r = 0; r < SIDE; r++) {
      for (int c = 0; c < SIDE; c++) {
        out[r * SIDE + c] = chw[r * SIDE + SIDE - 1 - c];
      }
    }
    return out;
  }

  private static float[][] concat(float[][] a, float[][] b) {
    float[][] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static int[] permutation(int n, Random rnd) {
    int[] p = new int[n];
    Arrays.setAll(p, i -> i);
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
