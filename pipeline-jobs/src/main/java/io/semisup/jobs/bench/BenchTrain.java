package io.semisup.jobs.bench;

import io.semisup.core.data.FashionMnist;
import io.semisup.core.image.InputSpec;
import io.semisup.core.model.Architectures;
import io.semisup.core.model.Architectures.ResNetShape;
import io.semisup.core.dl4j.Dl4jPatches;
import io.semisup.core.dl4j.Dl4jPatches.Patch;
import io.semisup.core.train.LocalTrainer;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.cli.RunOptions;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.SparkSessions;
import io.semisup.jobs.spark.SparkTrainer;
import io.semisup.jobs.spark.TrainingConfigs;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.tables.Tables;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.nativeblas.NativeOpsHolder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench train}: images/s training the student's architecture (conf {@code
 * model.student-architecture}, batch {@code student.batch-size}) on real Fashion-MNIST images, in
 * one JVM ({@link LocalTrainer}), through dl4j-spark on local Spark (the product's {@link
 * SparkTrainer}), and in PyTorch (same network, batch and augmentation) when torch is installed.
 * With {@code --levers}, also each training lever alone, against its baseline in the same run.
 *
 * <p>Why CPU seconds as well as wall time: the machines these run on are shared, and other
 * processes take cores at random; images per CPU second of this process is the steadier figure.
 * Throughput is timed over whole epochs after a warm-up epoch; the Spark figure is a whole
 * {@code SparkTrainer.fit} of E epochs after a warm-up fit, so it includes decoding the PNGs
 * once and Spark's scheduling, as the product pays them.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = {
      "Training images/s of the student architecture: one JVM, dl4j-spark on local Spark, PyTorch.",
      "Last line: JSON with dl4j_img_s, dl4j_spark_img_s, pytorch_img_s (null without torch)."
    })
public final class BenchTrain implements Callable<Integer> {

  /** DL4J's switch of its layer helpers, which the bench flips to measure without them. */
  private static final String HELPERS_DISABLE = Patch.NATIVE_HELPERS.property();

  @Mixin RunOptions run = new RunOptions();

  @Option(names = "--images", defaultValue = "60000", description = "Fashion-MNIST training images per epoch (default: ${DEFAULT-VALUE}, the size of a student epoch; with a few thousand Spark's fixed costs per fit dominate).")
  int images;

  @Option(names = "--epochs", defaultValue = "1", description = "Timed epochs after one warm-up epoch (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--levers", description = "Also measure each lever alone (helpers, batch-norm kernels, convolution backprop, ReLU backward, workspaces, batch, threads, averaging).")
  boolean levers;

  @Option(names = "--python", split = ",", defaultValue = "python3,/usr/bin/python3",
      description = "Pythons to try for the PyTorch peer, first with torch wins (default: ${DEFAULT-VALUE}).")
  List<String> pythons;

  @Option(names = "--paths", split = ",", defaultValue = "jvm,spark,torch",
      description = "Paths to measure, any of jvm, spark, torch (default: ${DEFAULT-VALUE}); a skipped path is null in the JSON. For profiling one path alone.")
  Set<String> paths;

  @Option(names = "--fashion-mnist-dir", description = "IDX files (default: data.fashion-mnist-dir).")
  Path idxDir;

  /** One measured configuration. */
  record Measure(String path, String setting, double imagesPerSecond, double imagesPerCpuSecond) {}

  private final List<Measure> measures = new ArrayList<>();
  private int cores;

  @Override
  public Integer call() throws Exception {
    for (String p : paths) {
      if (!Set.of("jvm", "spark", "torch").contains(p)) {
        System.err.println("bench train: unknown path '" + p + "' in --paths; use jvm, spark or torch");
        return 2;
      }
    }
    SemisupConfig config = run.load();
    Path dir = idxDir != null ? idxDir : Path.of(config.settings().data().fashionMnistDir());
    if (!Files.isDirectory(dir)) {
      System.err.println("bench train: Cannot read Fashion-MNIST from " + dir
          + ": not a directory. Install it: apt-get install -y dataset-fashion-mnist");
      return 2;
    }
    TrainingConfig student = TrainingConfigs.from(config.settings().student().train(), config.settings().run().seed());
    int batch = student.batchSize();
    int averaging = config.settings().student().train().averagingFrequency();
    String arch = config.settings().model().studentArchitecture();
    ResNetShape shape = Architectures.shape(arch);
    InputSpec spec = FashionMnist.INPUT_SPEC;
    FashionMnist train = FashionMnist.load(dir, true);
    int[] idx = new int[Math.min(images, train.size())];
    Arrays.setAll(idx, i -> i);
    float[][] x = train.chw(idx, spec);
    int[] y = train.labels(idx);
    cores = Runtime.getRuntime().availableProcessors();
    boolean userHelpers = System.getProperty(HELPERS_DISABLE) != null;
    boolean helpers = !userHelpers || "false".equalsIgnoreCase(System.getProperty(HELPERS_DISABLE));
    System.out.printf(Locale.ROOT, "bench train: %s (%s), %d images, batch %d, %d timed epochs, %d cores, load %.1f%n",
        arch, shape, idx.length, batch, epochs, cores, load());
    System.out.printf("%-6s %-58s %10s %12s%n", "path", "setting", "images/s", "img/cpu-s");

    Measure dl4j = paths.contains("jvm") ? measureJvm(student, shape, x, y, helpers, batch) : null;
    Measure dl4jSpark = paths.contains("spark")
        ? measureSpark(config, train, idx, student, arch, spec, helpers, averaging, batch) : null;
    setOmpThreads(cores);
    if (!userHelpers) {
      System.setProperty(HELPERS_DISABLE, "false");
    }
    Measure torch = null;
    String torchVersion = null;
    if (paths.contains("torch")) {
      TrainPytorchPeer peer = TrainPytorchPeer.find(pythons);
      if (peer == null) {
        System.out.println("pytorch: skipped, no Python with torch among " + pythons + " (apt-get install -y python3-torch)");
      } else {
        // PyTorch's best of one thread and all cores: on a shared machine spinning OpenMP threads
        // can lose to one, and the comparison should be with PyTorch at its best.
        for (int threads : cores > 1 ? new int[] {1, cores} : new int[] {1}) {
          TrainPytorchPeer.Result r = peer.run(dir, idx.length, batch, epochs, threads, shape.stemWidth(),
              Arrays.stream(shape.widths()).mapToObj(String::valueOf).collect(Collectors.joining(",")),
              spec.mean()[0], spec.std()[0], student.augmentShift(), student.seed());
          Measure m = record(new Measure("torch", "PyTorch " + r.version() + " eager, " + threads + " threads", r.imagesPerSecond(), r.imagesPerCpuSecond()));
          torchVersion = r.version();
          if (torch == null || m.imagesPerSecond() > torch.imagesPerSecond()) {
            torch = m;
          }
        }
      }
    }

    Map<String, Object> json = new LinkedHashMap<>();
    json.put("architecture", arch);
    json.put("images", idx.length);
    json.put("batch", batch);
    json.put("cores", cores);
    json.put("load_average", round(load()));
    json.put("dl4j_img_s", dl4j == null ? null : round(dl4j.imagesPerSecond()));
    json.put("dl4j_spark_img_s", dl4jSpark == null ? null : round(dl4jSpark.imagesPerSecond()));
    json.put("pytorch_img_s", torch == null ? null : round(torch.imagesPerSecond()));
    json.put("ratio_spark_vs_pytorch", torch == null || dl4jSpark == null ? null : Math.round(1000 * dl4jSpark.imagesPerSecond() / torch.imagesPerSecond()) / 1000.0);
    json.put("dl4j_img_per_cpu_s", dl4j == null ? null : round(dl4j.imagesPerCpuSecond()));
    json.put("dl4j_spark_img_per_cpu_s", dl4jSpark == null ? null : round(dl4jSpark.imagesPerCpuSecond()));
    json.put("pytorch_img_per_cpu_s", torch == null ? null : round(torch.imagesPerCpuSecond()));
    json.put("pytorch_version", torchVersion);
    if (levers) {
      List<Map<String, Object>> table = new ArrayList<>();
      for (Measure m : measures) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("path", m.path());
        e.put("setting", m.setting());
        e.put("img_s", round(m.imagesPerSecond()));
        e.put("img_per_cpu_s", round(m.imagesPerCpuSecond()));
        table.add(e);
      }
      json.put("levers", table);
    }
    System.out.println(RunContext.json().writeValueAsString(json));
    return 0;
  }

  /** One JVM: the product's setting, and with --levers each lever against it. */
  private Measure measureJvm(TrainingConfig student, ResNetShape shape, float[][] x, int[] y, boolean helpers, int batch) {
    // One OpenMP thread per JVM is what bin/semisup sets (OMP_NUM_THREADS=1).
    if (levers) {
      jvm("DL4J layers only (helpers off), 1 OMP thread", student, shape, x, y, false, WorkspaceMode.ENABLED, batch, 1);
    }
    if (levers) {
      off(Patch.FAST_BATCH_NORM, () -> jvm("oneDNN helpers, DL4J's batch-norm helper (no BatchNormKernels), 1 OMP thread", student, shape, x, y, helpers, WorkspaceMode.ENABLED, batch, 1));
      off(Patch.FAST_CONVOLUTION, () -> jvm("oneDNN helpers, DL4J's convolution helper (no FastConvolution), 1 OMP thread", student, shape, x, y, helpers, WorkspaceMode.ENABLED, batch, 1));
      off(Patch.FAST_RELU, () -> jvm("oneDNN helpers, DL4J's ReLU backward (no FastRelu), 1 OMP thread", student, shape, x, y, helpers, WorkspaceMode.ENABLED, batch, 1));
    }
    Measure product = jvm("oneDNN helpers, 1 OMP thread (product)", student, shape, x, y, helpers, WorkspaceMode.ENABLED, batch, 1);
    if (levers) {
      jvm("oneDNN helpers, " + cores + " OMP threads", student, shape, x, y, helpers, WorkspaceMode.ENABLED, batch, cores);
      jvm("oneDNN helpers, workspaces NONE", student, shape, x, y, helpers, WorkspaceMode.NONE, batch, 1);
      jvm("oneDNN helpers, batch " + batch * 2 + " (changes training)", student, shape, x, y, helpers, WorkspaceMode.ENABLED, batch * 2, 1);
      jvm("oneDNN helpers, batch " + batch / 2 + " (changes training)", student, shape, x, y, helpers, WorkspaceMode.ENABLED, batch / 2, 1);
    }
    return product;
  }

  /** dl4j-spark on local Spark, one worker per core: the product's setting and the levers. */
  private Measure measureSpark(SemisupConfig config, FashionMnist train, int[] idx, TrainingConfig student,
      String arch, InputSpec spec, boolean helpers, int averaging, int batch) throws IOException {
    SparkSession spark = SparkSessions.create(config);
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      Dataset<Row> rows = pngRows(spark, train, idx).cache();
      rows.count();
      int workers = jsc.defaultParallelism();
      if (levers) {
        spark("DL4J layers only, " + workers + " workers x 1 OMP thread, avg " + averaging, jsc, rows, student, arch, spec, false, workers, averaging, batch, 1);
      }
      if (levers) {
        int w = workers;
        off(Patch.FAST_BATCH_NORM, () -> spark("oneDNN helpers, DL4J's batch-norm helper, " + w + " workers, avg " + averaging, jsc, rows, student, arch, spec, helpers, w, averaging, batch, 1));
        off(Patch.FAST_CONVOLUTION, () -> spark("oneDNN helpers, DL4J's convolution helper, " + w + " workers, avg " + averaging, jsc, rows, student, arch, spec, helpers, w, averaging, batch, 1));
        off(Patch.FAST_RELU, () -> spark("oneDNN helpers, DL4J's ReLU backward, " + w + " workers, avg " + averaging, jsc, rows, student, arch, spec, helpers, w, averaging, batch, 1));
      }
      Measure product = spark("oneDNN helpers, " + workers + " workers x 1 OMP thread, avg " + averaging + " (product)",
          jsc, rows, student, arch, spec, helpers, workers, averaging, batch, 1);
      if (levers) {
        spark("oneDNN helpers, 1 worker x " + cores + " OMP threads, avg " + averaging, jsc, rows, student, arch, spec, helpers, 1, averaging, batch, cores);
        spark("oneDNN helpers, " + workers + " workers, avg " + averaging * 4, jsc, rows, student, arch, spec, helpers, workers, averaging * 4, batch, 1);
        spark("oneDNN helpers, " + workers + " workers, batch " + batch * 2 + " per worker (changes training)", jsc, rows, student, arch, spec, helpers, workers, averaging, batch * 2, 1);
      }
      return product;
    } finally {
      spark.stop();
    }
  }

  private Measure jvm(String setting, TrainingConfig cfg, ResNetShape shape, float[][] x, int[] y,
      boolean helpers, WorkspaceMode ws, int batch, int threads) {
    setOmpThreads(threads);
    System.setProperty(HELPERS_DISABLE, helpers ? "false" : "true");
    TrainingConfig c = cfg.withBatchSize(batch);
    ComputationGraph g = Architectures.build(shape, FashionMnist.INPUT_SPEC, 10, c, ws);
    LocalTrainer.fit(g, x, y, c.withEpochs(1), FashionMnist.INPUT_SPEC, null);
    long t0 = System.nanoTime();
    long c0 = cpuNanos();
    LocalTrainer.fit(g, x, y, c.withEpochs(epochs), FashionMnist.INPUT_SPEC, null);
    return record(rate("jvm", setting, (long) x.length * epochs, System.nanoTime() - t0, cpuNanos() - c0));
  }

  private Measure spark(String setting, JavaSparkContext jsc, Dataset<Row> rows, TrainingConfig cfg,
      String arch, InputSpec spec, boolean helpers, int workers, int averaging, int batch, int threads) {
    setOmpThreads(threads);
    System.setProperty(HELPERS_DISABLE, helpers ? "false" : "true");
    TrainingConfig c = cfg.withBatchSize(batch);
    SparkTrainer trainer = new SparkTrainer(jsc, workers, averaging);
    trainer.fit(Architectures.build(arch, spec, 10, c), rows, c.withEpochs(1), spec, 10, "bench-warmup");
    long t0 = System.nanoTime();
    long c0 = cpuNanos();
    trainer.fit(Architectures.build(arch, spec, 10, c), rows, c.withEpochs(epochs), spec, 10, "bench");
    return record(rate("spark", setting, rows.count() * epochs, System.nanoTime() - t0, cpuNanos() - c0));
  }

  /** Runs {@code measure} with one of our kernels switched off: DL4J's own code for that layer. */
  private static void off(Patch patch, Runnable measure) {
    Dl4jPatches.Options before = Dl4jPatches.status().options();
    Dl4jPatches.install(before.with(patch, false));
    try {
      measure.run();
    } finally {
      Dl4jPatches.install(before);
    }
  }

  private Measure rate(String path, String setting, long seen, long wallNanos, long cpuNanos) {
    return new Measure(path, setting, seen / (Math.max(1, wallNanos) / 1e9), seen / (Math.max(1, cpuNanos) / 1e9));
  }

  private Measure record(Measure m) {
    measures.add(m);
    System.out.printf(Locale.ROOT, "%-6s %-58s %10.0f %12.0f%n", m.path(), m.setting(), m.imagesPerSecond(), m.imagesPerCpuSecond());
    return m;
  }

  /** OpenMP threads of ND4J's (and oneDNN's) native ops from now on, in this JVM. */
  static void setOmpThreads(int threads) {
    org.nd4j.linalg.factory.Nd4j.getBackend(); // loads the native library NativeOpsHolder expects
    NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
  }

  /** Rows (image_id, bytes, label) as the shard stage writes them: real images as PNG. */
  public static Dataset<Row> pngRows(SparkSession spark, FashionMnist data, int[] idx) throws IOException {
    List<Row> rows = new ArrayList<>(idx.length);
    for (int i : idx) {
      BufferedImage img = new BufferedImage(FashionMnist.SIDE, FashionMnist.SIDE, BufferedImage.TYPE_BYTE_GRAY);
      img.getRaster().setDataElements(0, 0, FashionMnist.SIDE, FashionMnist.SIDE, data.pixels(i));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(img, "png", out);
      rows.add(RowFactory.create(String.format("img%06d", i), out.toByteArray(), data.label(i)));
    }
    return spark.createDataFrame(rows, Tables.IMAGES.columns("image_id", "bytes", "label"));
  }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static double load() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
