package io.semisup.jobs.bench;

import static io.semisup.jobs.bench.BenchSupport.round;

import io.semisup.core.UsageError;
import io.semisup.core.data.FashionMnist;
import io.semisup.core.dedup.Calibration;
import io.semisup.core.dedup.CopyAlterations;
import io.semisup.core.dedup.EmbeddingWhitening;
import io.semisup.core.dedup.Embeddings;
import io.semisup.core.dedup.ExactSearch;
import io.semisup.core.dedup.ReferenceVariants;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.model.GlobalPool;
import io.semisup.core.multigrain.MultigrainObjective;
import io.semisup.core.multigrain.MultigrainTrainer;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.cli.RunOptions;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.stages.RunContext;
import io.semisup.core.train.Shuffle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * embedding against {@link ReferenceVariants} of each reference (the image and five 70% crops,
 * each also mirrored: references are few, so embedding each twelve times costs nothing per pool
 * image); {@code gem+mirrored-references} shows the mirrors alone. Embeddings are PCA-whitened
 * ({@link EmbeddingWhitening}) on labelled training images first, except the pixels (mean-removed
 * only) and {@code gem-unwhitened} (shown for the difference). Both teachers are trained here on
 * {@code --train-images} labelled images, seeded. A third teacher, same architecture, recipe and
 * seed, is trained with the MultiGrain objective ({@link MultigrainTrainer}); its embedding is
 * {@code multigrain_recall}, and {@code teacher_val_top1} gives the three teachers' top-1 on the
 * clean pool (held-out training images).
 *
 * <p>First, the same question with geometric verification ({@code dedup.verify}) on real photos
 * ({@link VerifiedDedupOnPhotos}): recall and precision with and without it, in the same run;
 * {@code --photos-only} runs that part alone.
 */
@Command(
    name = "dedup",
    mixinStandardHelpOptions = true,
    description = {
      "Planted altered copies of test images in the pool: recall and precision of GeM embeddings vs baselines.",
      "Last line: JSON {\"planted\", \"recall\", \"precision\", \"threshold\", \"pixel_recall\","
          + " \"avgpool_recall\", \"gem_recall\", \"multigrain_recall\", \"pairs_per_s\", ...,"
          + " \"photo_recall\", \"photo_precision\", \"photo_verified_recall\", \"photo_verified_precision\"}."
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

  @Option(names = "--strength", defaultValue = "STRONG",
      description = "Alterations of the planted copies: STRONG (the default: crop 50-90%%, rotation,"
          + " overlays) or MILD (crop 85-100%%, small rotation, no overlay) (default: ${DEFAULT-VALUE}).")
  CopyAlterations.Strength strength;

  @Option(names = "--multigrain-lambda", defaultValue = "0.5",
      description = "Cross-entropy weight of the MultiGrain teacher; 1 - lambda on the margin loss (default: ${DEFAULT-VALUE}).")
  double multigrainLambda;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of everything (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--in-pool-pairs", defaultValue = "300",
      description = "In-pool near-duplicates: test images (not references) planted twice each into the"
          + " clean pool, for dedup's sign random projections against Spark ML's"
          + " BucketedRandomProjectionLSH (0: not measured; default: ${DEFAULT-VALUE}).")
  int inPoolPairs;

  @Option(names = "--in-pool-strength", defaultValue = "MILD",
      description = "Alterations of the in-pool copies (default: ${DEFAULT-VALUE}).")
  CopyAlterations.Strength inPoolStrength;

  @Option(names = "--in-pool-precision", defaultValue = "-1",
      description = "Precision of exact search whose threshold the in-pool methods share (default:"
          + " --precision).")
  double inPoolPrecision;

  @Option(names = "--brp-bucket-length", defaultValue = "2.0",
      description = "BucketedRandomProjectionLSH bucket length (default: ${DEFAULT-VALUE}).")
  double brpBucketLength;

  @Option(names = "--fashion-mnist-dir", description = "IDX files (default: data.fashion-mnist-dir).")
  Path idxDir;

  @Option(names = "--photo-dir",
      description = "Photos for the verification part (default: opencv-doc's examples, ${DEFAULT-VALUE}).")
  Path photoDir = MkdPatchSet.OPENCV_DATA;

  @Option(names = "--photo-recall", defaultValue = "0.9",
      description = "Calibration recall the photo part's global threshold is set for (default: ${DEFAULT-VALUE}).")
  double photoRecall;

  @Option(names = "--photos-only",
      description = "Only the verification part on photos (no teachers, no Fashion-MNIST).")
  boolean photosOnly;

  private static final InputSpec SPEC = FashionMnist.INPUT_SPEC;
  private static final int SIDE = FashionMnist.SIDE;
  /** Labelled images the whitening of each teacher's embedding is learned on. */
  private static final int WHITENING_SAMPLE = 2000;

  @Override
  public Integer call() throws Exception {
    SemisupConfig config = run.load();
    // First: it is quick, and fails at once where the photos are missing.
    Map<String, Object> photoPart = photos(config);
    if (photosOnly) {
      Map<String, Object> json = new LinkedHashMap<>();
      putPhotos(json, photoPart);
      json.put("load_average", round(BenchSupport.loadAverage(), 2));
      System.out.println(RunContext.json().writeValueAsString(json));
      return 0;
    }
    Path dir = BenchSupport.fashionMnistDir(idxDir, config);
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
    int[] trainOrder = Shuffle.permutation(train.size(), new Random(seed));
    int[] testOrder = Shuffle.permutation(test.size(), new Random(seed + 1));
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
      byte[] copy = CopyAlterations.alter(test.pixels(refIdx[c]), SIDE, alter, applied, strength);
      poolChw[pool + c] = chw(copy);
      source[pool + c] = c;
      overlays.merge(applied[0].overlay(), 1, Integer::sum);
    }
    float[][] refChw = test.chw(refIdx, SPEC);
    float[][] refMirror = new float[references][];
    for (int r = 0; r < references; r++) {
      refMirror[r] = mirror(refChw[r]);
    }
    // Views of each reference, grouped by view: row v * references + r is view v of reference r.
    float[][] refViews = new float[references * ReferenceVariants.COUNT][];
    for (int r = 0; r < references; r++) {
      List<byte[]> views = ReferenceVariants.of(test.pixels(refIdx[r]), SIDE);
      for (int v = 0; v < views.size(); v++) {
        refViews[v * references + r] = chw(views.get(v));
      }
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
    float[][] xTest = test.chw(refIdx, SPEC);
    int[] yTest = test.labels(refIdx);
    Map<String, Object> top1 = new LinkedHashMap<>();
    ComputationGraph avg = teacher(GlobalPool.AVG, cfg, xTrain, yTrain, xTest, yTest, top1);
    ComputationGraph gem = teacher(GlobalPool.gem(gemP), cfg, xTrain, yTrain, xTest, yTest, top1);
    ComputationGraph mg = multigrainTeacher(cfg, xTrain, yTrain, xTest, yTest, top1);
    // Top-1 on held-out training-split images (the clean pool: never trained on, not the test set).
    float[][] xVal = train.chw(clean, SPEC);
    int[] yVal = train.labels(clean);
    Map<String, Object> valTop1 = new LinkedHashMap<>();
    valTop1.put("avg", round(LocalTrainer.accuracy(LocalTrainer.predict(avg, xVal, SPEC), yVal)[0], 4));
    valTop1.put("gem", round(LocalTrainer.accuracy(LocalTrainer.predict(gem, xVal, SPEC), yVal)[0], 4));
    valTop1.put("multigrain", round(LocalTrainer.accuracy(LocalTrainer.predict(mg, xVal, SPEC), yVal)[0], 4));
    System.out.println("  teacher top-1 on " + clean.length + " held-out training images: " + valTop1);

    // Whitening of each model learned on labelled training images (never the test set or pool).
    float[][] whitenSample = Arrays.copyOf(xTrain, Math.min(xTrain.length, WHITENING_SAMPLE));
    EmbeddingWhitening avgW = EmbeddingWhitening.learn(Embeddings.of(avg, whitenSample, SPEC));
    EmbeddingWhitening gemW = EmbeddingWhitening.learn(Embeddings.of(gem, whitenSample, SPEC));

    Map<String, Object> methods = new LinkedHashMap<>();
    Result pixels = measure("pixels", Embeddings.pixels(refChw), null, Embeddings.pixels(poolChw),
        source, inCalibration, methods);
    Result avgPool = measure("avgpool", avgW.apply(Embeddings.of(avg, refChw, SPEC)), null,
        avgW.apply(Embeddings.of(avg, poolChw, SPEC)), source, inCalibration, methods);
    float[][] gemRawRefs = Embeddings.of(gem, refChw, SPEC);
    float[][] gemRawPool = Embeddings.of(gem, poolChw, SPEC);
    measure("gem-unwhitened", gemRawRefs, null, gemRawPool, source, inCalibration, methods);
    float[][] gemRefs = gemW.apply(gemRawRefs);
    float[][] gemPool = gemW.apply(gemRawPool);
    float[][] gemMirrors = gemW.apply(Embeddings.of(gem, refMirror, SPEC));
    Result gemPlain = measure("gem", gemRefs, null, gemPool, source, inCalibration, methods);
    measure("gem+mirrored-references", gemRefs, gemMirrors, gemPool, source, inCalibration, methods);
    float[][] gemViews = gemW.apply(Embeddings.of(gem, refViews, SPEC));
    Result gemVariants = measure("gem+reference-views", gemRefs,
        Arrays.copyOfRange(gemViews, references, gemViews.length), gemPool, source, inCalibration, methods);
    EmbeddingWhitening mgW = EmbeddingWhitening.learn(Embeddings.of(mg, whitenSample, SPEC));
    float[][] mgRefs = mgW.apply(Embeddings.of(mg, refChw, SPEC));
    float[][] mgPool = mgW.apply(Embeddings.of(mg, poolChw, SPEC));
    Result mgPlain = measure("multigrain", mgRefs, null, mgPool, source, inCalibration, methods);
    float[][] mgViews = mgW.apply(Embeddings.of(mg, refViews, SPEC));
    measure("multigrain+reference-views", mgRefs, Arrays.copyOfRange(mgViews, references, mgViews.length),
        mgPool, source, inCalibration, methods);

    // Exact search speed: every pool image against references and mirrors, median of 5.
    ExactSearch search = new ExactSearch(gemViews);
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

    Map<String, Object> inPool = inPoolPairs > 0
        ? inPool(config, test, testOrder, gem, gemW, Arrays.copyOf(gemPool, pool)) : null;

    Map<String, Object> json = new LinkedHashMap<>();
    json.put("planted", planted);
    json.put("strength", strength.name());
    json.put("recall", round(gemVariants.eval.recall(), 4));
    json.put("precision", round(gemVariants.eval.precision(), 4));
    json.put("threshold", round(gemVariants.calibrated.threshold(), 4));
    json.put("pixel_recall", round(pixels.eval.recall(), 4));
    json.put("avgpool_recall", round(avgPool.eval.recall(), 4));
    json.put("gem_recall", round(gemPlain.eval.recall(), 4));
    json.put("multigrain_recall", round(mgPlain.eval.recall(), 4));
    json.put("pairs_per_s", round(pairsPerS, 0));
    json.put("method", "gem+reference-views");
    json.put("target_precision", minPrecision);
    json.put("methods", methods);
    json.put("teacher_top1_on_references", top1);
    json.put("teacher_val_top1", valTop1);
    json.put("embedding_dim", gemRefs[0].length);
    json.put("embed_ms_per_image", round(embedMsPerImage, 4));
    json.put("calibration", calibration);
    json.put("clean_pool", pool);
    json.put("references", references);
    json.put("in_pool", inPool);
    putPhotos(json, photoPart);
    json.put("load_average", round(BenchSupport.loadAverage(), 2));
    System.out.println(RunContext.json().writeValueAsString(json));
    return 0;
  }

  /**
   * In-pool near-duplicates: the clean pool plus two altered copies of each of
   * {@code --in-pool-pairs} test images outside the references, embedded like the pool (GeM,
   * whitened); dedup's sign random projections (its settings' defaults: 8 tables of 12 bits)
   * against Spark ML's BucketedRandomProjectionLSH with as many tables, at exact search's
   * threshold of precision {@code --precision}.
   */
  private Map<String, Object> inPool(SemisupConfig config, FashionMnist test, int[] testOrder,
      ComputationGraph gem, EmbeddingWhitening gemW, float[][] cleanPool) {
    if (references + inPoolPairs > test.size()) {
      throw new UsageError("Cannot take --in-pool-pairs " + inPoolPairs + " test images beyond the "
          + references + " references of " + test.size());
    }
    Random alter = new Random(seed + 3);
    float[][] copies = new float[2 * inPoolPairs][];
    int[] group = new int[cleanPool.length + copies.length];
    Arrays.fill(group, -1);
    for (int k = 0; k < inPoolPairs; k++) {
      byte[] src = test.pixels(testOrder[references + k]);
      for (int c = 0; c < 2; c++) {
        copies[2 * k + c] = chw(CopyAlterations.alter(src, SIDE, alter, null, inPoolStrength));
        group[cleanPool.length + 2 * k + c] = k;
      }
    }
    float[][] vecs = concat(cleanPool, gemW.apply(Embeddings.of(gem, copies, SPEC)));
    InPoolSearch search = new InPoolSearch(vecs, group);
    double target = inPoolPrecision > 0 ? inPoolPrecision : minPrecision;
    float threshold = search.exactThreshold(target);
    if (Float.isInfinite(threshold)) {
      System.out.printf(Locale.ROOT, "  in-pool: exact search reaches precision %.2f at no"
          + " threshold; set --in-pool-precision lower%n", target);
    }
    int tables = config.settings().dedup().lshTables();
    int bits = config.settings().dedup().lshBits();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("pool", vecs.length);
    out.put("true_pairs", search.truePairs());
    out.put("strength", inPoolStrength.name());
    out.put("target_precision", target);
    out.put("threshold", round(threshold, 4));
    Map<String, Object> exact = search.exact(threshold);
    Map<String, Object> sign = search.signLsh(threshold, tables, bits, seed);
    sign.put("tables", tables);
    sign.put("bits", bits);
    Map<String, Object> brp;
    org.apache.spark.sql.SparkSession spark = io.semisup.jobs.spark.SparkSessions.create(config);
    try {
      brp = search.bucketedRandomProjection(spark, threshold, tables, brpBucketLength, seed);
    } finally {
      spark.stop();
    }
    brp.put("tables", tables);
    out.put("exact", exact);
    out.put("sign_lsh", sign);
    out.put("spark_brp_lsh", brp);
    System.out.printf(Locale.ROOT, "  in-pool: %d images, %d true pairs (%s copies), threshold %.4f"
        + " (exact search at precision >= %.2f)%n", vecs.length, search.truePairs(), inPoolStrength,
        threshold, target);
    System.out.println(InPoolSearch.line("exact", exact));
    System.out.println(InPoolSearch.line("sign LSH (dedup)", sign));
    System.out.println(InPoolSearch.line("Spark ML BRP LSH", brp));
    return out;
  }

  /** Verification on real photos ({@link VerifiedDedupOnPhotos}), with and without it. */
  private Map<String, Object> photos(SemisupConfig config) {
    List<PhotoCopySet.Photo> photos = PhotoCopySet.load(photoDir);
    Map<String, Object> m = VerifiedDedupOnPhotos.measure(photos, strength,
        config.settings().dedup().verifyMinInliers(), photoRecall, minPrecision, seed);
    System.out.println(VerifiedDedupOnPhotos.describe(m));
    return m;
  }

  /** The photo part's headline figures at the top level, its details under "photos". */
  @SuppressWarnings("unchecked")
  private static void putPhotos(Map<String, Object> json, Map<String, Object> photos) {
    Map<String, Map<String, Object>> points = (Map<String, Map<String, Object>>) photos.get("points");
    json.put("photo_recall", points.get("global").get("recall"));
    json.put("photo_precision", points.get("global").get("precision"));
    json.put("photo_verified_recall", points.get("global+verify-all").get("recall"));
    json.put("photo_verified_precision", points.get("global+verify-all").get("precision"));
    json.put("photos", photos);
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
    // Diagnostics on the measured items: how often the source is the best match at all, and how
    // the copies' similarities compare with the clean images' best (natural look-alikes).
    int copies = 0;
    int rank1 = 0;
    List<Float> copySims = new ArrayList<>();
    List<Float> cleanSims = new ArrayList<>();
    for (Calibration.Item it : evalItems) {
      if (it.planted()) {
        copies++;
        rank1 += it.rightSource() ? 1 : 0;
        copySims.add(it.similarity());
      } else {
        cleanSims.add(it.similarity());
      }
    }
    Calibration.Point at90 = Calibration.at(evalItems, Calibration.pick(calItems, 0.9).threshold());
    Calibration.Point eval = Calibration.at(evalItems, picked.threshold());
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("threshold", round(picked.threshold(), 4));
    m.put("calibration_recall", round(picked.recall(), 4));
    m.put("recall", round(eval.recall(), 4));
    m.put("precision", round(eval.precision(), 4));
    m.put("flagged", eval.flagged());
    m.put("source_is_best_match", round(rank1 / (double) Math.max(1, copies), 4));
    m.put("copy_median_similarity", round(quantile(copySims, 0.5), 4));
    m.put("clean_p99_similarity", round(quantile(cleanSims, 0.99), 4));
    m.put("recall_at_precision_0.9", round(at90.recall(), 4));
    m.put("precision_at_that", round(at90.precision(), 4));
    methods.put(name, m);
    System.out.printf(Locale.ROOT, "  %-26s threshold %.4f (calibration recall %.4f): recall %.4f,"
            + " precision %.4f, %d flagged; source best match %.3f, copy median %.4f, clean p99 %.4f;"
            + " at 90%% precision: recall %.4f%n", name, picked.threshold(), picked.recall(), eval.recall(),
        eval.precision(), eval.flagged(), rank1 / (double) Math.max(1, copies), quantile(copySims, 0.5),
        quantile(cleanSims, 0.99), at90.recall());
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

  /**
   * The MultiGrain teacher: the GeM teacher's architecture, recipe and seed, trained with
   * {@code --multigrain-lambda} CE + the margin loss over batches of 3 repeated augmentations
   * (batch 63 = 21 images x 3, the multiple of 3 nearest the recipe's 64).
   */
  private ComputationGraph multigrainTeacher(TrainingConfig cfg, float[][] x, int[] y,
      float[][] xTest, int[] yTest, Map<String, Object> top1) {
    long t0 = System.nanoTime();
    MultigrainObjective objective = new MultigrainObjective(multigrainLambda, 0.2, 1.2, 3);
    int batch = Math.max(2, Math.round(cfg.batchSize() / 3f)) * 3;
    TrainingConfig mgCfg = cfg.withBatchSize(batch);
    ComputationGraph g = Architectures.build(arch, SPEC, 10, mgCfg, GlobalPool.gem(gemP));
    var stats = MultigrainTrainer.fit(g, x, y, mgCfg, SPEC, null, objective, null);
    double acc = LocalTrainer.accuracy(LocalTrainer.predict(g, xTest, SPEC), yTest)[0];
    top1.put("multigrain", round(acc, 4));
    var last = stats.get(stats.size() - 1);
    System.out.printf(Locale.ROOT, "  teacher %s (gem, MultiGrain lambda %.2f, batch %d): test top-1 %.4f,"
            + " margin loss %.4f -> %.4f, beta %.4f, %.0f s%n", arch, multigrainLambda, batch, acc,
        stats.get(0).meanMarginLoss(), last.meanMarginLoss(), last.beta(), (System.nanoTime() - t0) / 1e9);
    return g;
  }

  private static double quantile(List<Float> values, double q) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Float> sorted = new ArrayList<>(values);
    java.util.Collections.sort(sorted);
    return sorted.get((int) Math.min(sorted.size() - 1, Math.floor(q * sorted.size())));
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

}
