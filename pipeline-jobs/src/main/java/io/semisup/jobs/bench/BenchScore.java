package io.semisup.jobs.bench;

import static io.semisup.jobs.bench.BenchSupport.deleteTree;
import static io.semisup.jobs.bench.BenchSupport.loadAverage;
import static io.semisup.jobs.bench.BenchSupport.processCpuNanos;
import static io.semisup.jobs.bench.BenchSupport.round;

import io.semisup.core.image.ContentHash;
import io.semisup.core.image.ModelReadyEncoder;
import io.semisup.core.image.FastImageDecoder;
import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.InputSpec;
import io.semisup.core.image.Preprocessor;
import io.semisup.core.model.Architectures;
import io.semisup.core.model.ModelMetadata;
import io.semisup.core.scoring.Dl4jScorer;
import io.semisup.core.scoring.Int8Quantizer;
import io.semisup.core.scoring.OnnxExporter;
import io.semisup.core.scoring.OnnxScorer;
import io.semisup.core.scoring.Scorer;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.ScoringEngine;
import io.semisup.jobs.spark.SparkSessions;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.ScoreStage;
import io.semisup.jobs.stages.Scoring;
import io.semisup.jobs.stages.ShardStage;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.tables.Tables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/semisup bench score}: how close scoring runs to the engine's own speed, and what the
 * engine gains over DL4J. One run measures, on the same ResNet-50 (random weights, 224x224, 1000
 * classes) and the same synthetic ImageNet-like JPEGs ({@link SyntheticPhotos}):
 *
 * <ul>
 *   <li>end to end: the real {@code score} stage on local Spark over Parquet shards of JPEG bytes
 *       (read, decode, resize, normalize, ONNX Runtime inference, top-P, write, commit), the
 *       teacher brought as an ONNX file as a user would; images / wall time of the stage, on a
 *       JVM whose engine is already open (as an executor's is after its first task);
 *   <li>the engine alone: ONNX Runtime on tensors decoded beforehand, same batch, both ways an
 *       executor can share it (batches taking turns with every core, or one single-threaded run
 *       per core at the same time), each measured before and after the end-to-end run (the
 *       machine is shared; the mean is used); the faster way is the engine's figure, whichever
 *       way the stage ran;
 *   <li>DL4J on the same tensors, a few batches, with every core;
 *   <li>decode + resize + normalize on one thread ({@link DecodeMeter}), ImageIO against the
 *       configured {@code --decoder}, on the 500x375 photos and on 1600x1200 ones (where the
 *       DCT-scaled decode applies), and the engine's top-1 and top-5 agreement between the two
 *       decoders' tensors ({@link Agreement});
 *   <li>the INT8 teacher ({@link Int8Quantizer}, calibrated on other photos): its engine passes
 *       alternate with FP32's (both ways of sharing), and its top-1 agreement with FP32 and the
 *       overlap of the top-K-per-class selections on {@code --int8-pool} photos ({@link
 *       Int8Meter}); and the same for the demo's teacher, resnet-small trained briefly on 28x28
 *       Fashion-MNIST ({@code --int8-small-steps}, 0 skips it).
 * </ul>
 *
 * And the cost of the embedding output ({@code score.embeddings}): the engine on the same tensors
 * without and with it, passes interleaved ABBA so the machine's load falls on both alike
 * ({@code embedding_overhead}: extra time per image, as a fraction), and the score stage again
 * with embeddings on the same shards ({@code embedding_overhead_end_to_end}, one run after the
 * other, so noisier).
 *
 * <p>The last line of output is one JSON object ({@code end_to_end_img_s}, {@code engine_img_s},
 * {@code dl4j_img_s}, {@code ratio_end_to_end_vs_engine}, {@code engine_vs_dl4j}, ..., ending
 * with {@code engine_int8_img_s}, {@code int8_top1_agreement}, {@code int8_selection_overlap}).
 */
@Command(name = "score", mixinStandardHelpOptions = true,
    description = {"Scoring throughput: end to end (score stage on local Spark) vs the ONNX"
        + " engine alone vs DL4J, ResNet-50 on synthetic ~100 KB 500x375 JPEGs.",
        "Last line: one JSON object."})
public final class BenchScore implements Callable<Integer> {

  // 2048 images: at 1024 the stage's fixed costs (teacher check, broadcast, commit: about 3 s)
  // and its first wave of tasks were 15% of the run on 2 cores, which a billion-image run never
  // sees (docs/benchmarks.md, bench score, "Fixed costs, concurrent engine runs").
  @Option(names = "--images", description = "Images scored end to end (default ${DEFAULT-VALUE}).")
  int images = 2048;

  @Option(names = "--shards", description = "Parquet shards they are written to (default ${DEFAULT-VALUE}).")
  int shards = 8;

  @Option(names = "--engine-images",
      description = "Pre-decoded images per engine pass (default ${DEFAULT-VALUE}).")
  int engineImages = 256;

  @Option(names = "--dl4j-batches",
      description = "Timed DL4J batches, after one untimed (default ${DEFAULT-VALUE}).")
  int dl4jBatches = 2;

  @Option(names = "--dl4j-batch", description = "DL4J batch size (default ${DEFAULT-VALUE}).")
  int dl4jBatch = 16;

  @Option(names = "--batch", description = "Inference batch, end to end and engine (default ${DEFAULT-VALUE}).")
  int batch = 32;

  @Option(names = "--decode-threads", description = "score.decode-threads (default ${DEFAULT-VALUE}).")
  int decodeThreads = 2;

  @Option(names = "--prefetch-batches", description = "score.prefetch-batches (default ${DEFAULT-VALUE}).")
  int prefetchBatches = 2;

  @Option(names = "--threads",
      description = "score.intra-op-threads: ONNX Runtime threads per batch, 0 = automatic"
          + " (default ${DEFAULT-VALUE}).")
  int threads = 0;

  @Option(names = "--engine-sharing",
      description = "score.engine-sharing of the end-to-end run: auto, concurrent or turns"
          + " (default ${DEFAULT-VALUE}).")
  String engineSharing = "auto";

  @Option(names = "--decoder",
      description = "score.decoder of the end-to-end run: auto, opencv or imageio (default ${DEFAULT-VALUE}).")
  String decoder = "auto";

  @Option(names = "--decode-images",
      description = "500x375 photos the decode meter times, per decoder (default ${DEFAULT-VALUE}).")
  int decodeImages = 128;

  @Option(names = "--large-images",
      description = "1600x1200 photos the decode meter times and scores, per decoder (default ${DEFAULT-VALUE}).")
  int largeImages = 32;

  @Option(names = "--size", description = "Model input side in pixels (default ${DEFAULT-VALUE}).")
  int size = 224;

  @Option(names = "--seed", description = "Seed of pictures and weights (default ${DEFAULT-VALUE}).")
  long seed = 42;

  @Option(names = "--work-dir",
      description = "Where shards and the run go (default: a temporary directory, deleted after).")
  Path workDir;

  @Option(names = "--master", description = "Spark master (default ${DEFAULT-VALUE}).")
  String master = "local[2]";

  @Option(names = "--int8-calibration-images",
      description = "Photos (not among the timed ones) the INT8 model is calibrated on (default ${DEFAULT-VALUE}).")
  int int8CalibrationImages = 64;

  @Option(names = "--int8-pool",
      description = "Photos INT8 and FP32 are compared on: top-1 agreement, selection overlap (default ${DEFAULT-VALUE}).")
  int int8Pool = 512;

  @Option(names = "--int8-small-steps",
      description = "SGD steps of the demo teacher (resnet-small, Fashion-MNIST) measured in INT8; 0 = skip (default ${DEFAULT-VALUE}).")
  int int8SmallSteps = 300;

  @Option(names = "--fashion-mnist-dir", description = "Fashion-MNIST IDX folder (default: data.fashion-mnist-dir).")
  Path fashionMnistDir;
  @Option(names = "--embedding-rounds",
      description = "Interleaved engine passes without and with the embedding output, each"
          + " (default ${DEFAULT-VALUE}; 0: not measured).")
  int embeddingRounds = 4;

  @Option(names = "--embedding-end-to-end", negatable = true,
      description = "Also run the score stage with score.embeddings on the same shards, after"
          + " the plain run (default ${DEFAULT-VALUE}).")
  boolean embeddingEndToEnd = true;

  @Override
  public Integer call() throws Exception {
    boolean temporary = workDir == null;
    Path work = temporary ? Files.createTempDirectory("bench-score") : workDir;
    try {
      return run(work);
    } finally {
      if (temporary) {
        deleteTree(work);
      }
    }
  }

  private int run(Path work) throws Exception {
    int cores = Runtime.getRuntime().availableProcessors();
    double loadStart = loadAverage();
    InputSpec spec = new InputSpec(size, size, 3, new float[] {0.485f, 0.456f, 0.406f},
        new float[] {0.229f, 0.224f, 0.225f});
    List<String> classes = new ArrayList<>();
    for (int c = 0; c < 1000; c++) {
      classes.add(String.format(Locale.ROOT, "n%08d", c));
    }

    // The teacher, as a user would bring it: an ONNX file and its metadata.
    long t0 = System.nanoTime();
    ComputationGraph graph = Architectures.build(Architectures.RESNET_50, spec, classes.size(),
        TrainingConfig.defaults().withSeed(seed));
    byte[] onnx = new OnnxExporter(spec).toBytes(graph);
    Path onnxFile = work.resolve("teacher.onnx");
    Path metaFile = work.resolve("teacher.json");
    Files.write(onnxFile, onnx);
    Files.writeString(metaFile, new ModelMetadata("bench-resnet-50", Architectures.RESNET_50,
        classes, spec, seed, Map.of()).toJson());
    say("ResNet-50 built and exported to ONNX (%.0f MB) in %.1f s", onnx.length / 1e6,
        (System.nanoTime() - t0) / 1e9);

    SemisupConfig config = SemisupConfig.load("local", null, List.of(
        "spark.master=\"" + master + "\"",
        "root=\"" + work.resolve("runs") + "\"",
        "run-id=bench",
        "score.batch-size=" + batch,
        "score.top-p=10",
        "score.decode-threads=" + decodeThreads,
        "score.prefetch-batches=" + prefetchBatches,
        "score.intra-op-threads=" + threads,
        "score.engine-sharing=" + engineSharing,
        "score.decoder=" + decoder,
        "score.precision=fp32",
        "score.teacher-onnx=\"" + onnxFile + "\"",
        "score.teacher-metadata=\"" + metaFile + "\""));
    SparkSession spark = SparkSessions.create(config);
    try {
      RunContext ctx = new RunContext(spark, config);
      t0 = System.nanoTime();
      long jpegBytes = writeShards(ctx, classes, images, shards, "bench");
      say("%d JPEGs (%.0f KB on average) in %d shards generated in %.1f s", images,
          jpegBytes / 1e3 / images, shards, (System.nanoTime() - t0) / 1e9);

      // Pre-decoded tensors for the engines: the first pictures, through the same preprocessing.
      SyntheticPhotos photos = new SyntheticPhotos(seed);
      Preprocessor pre = new Preprocessor(spec);
      ImageDecoder reference = new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE);
      float[][] tensors = IntStream.range(0, engineImages).parallel()
          .mapToObj(i -> {
            try {
              return pre.toChw(reference.decode(photos.jpeg(i)).image());
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          })
          .toArray(float[][]::new);

      // The INT8 teacher, calibrated on other photos than those it is timed and compared on.
      t0 = System.nanoTime();
      float[][] calibration = IntStream.range(0, int8CalibrationImages).parallel()
          .mapToObj(i -> chw(pre, reference, photos, engineImages + int8Pool + i))
          .toArray(float[][]::new);
      byte[] int8 = Int8Quantizer.defaults().quantize(onnx, calibration, spec);
      say("INT8 model (QDQ, %d calibration photos) in %.1f s: %.0f MB", int8CalibrationImages,
          (System.nanoTime() - t0) / 1e9, int8.length / 1e6);
      float[][] int8PoolTensors = IntStream.range(0, Math.max(int8Pool, tensors.length)).parallel()
          .mapToObj(i -> i < tensors.length ? tensors[i] : chw(pre, reference, photos, i))
          .toArray(float[][]::new);

      // Decode + resize + normalize, one thread, ImageIO vs the configured decoder, on the
      // photos above and on large ones (where the DCT-scaled decode applies).
      FastImageDecoder fast = DecodeMeter.of(decoder);
      FastImageDecoder imageio = DecodeMeter.imageio();
      List<byte[]> small = IntStream.range(0, decodeImages).mapToObj(photos::jpeg).toList();
      SyntheticPhotos largePhotos = new SyntheticPhotos(seed + 1, 1600, 1200, SyntheticPhotos.DEFAULT_QUALITY);
      List<byte[]> large = IntStream.range(0, largeImages).parallel().mapToObj(largePhotos::jpeg).toList();
      // Model-ready shards: the photos as shard.max-side = 320 stores them.
      ModelReadyEncoder stored = new ModelReadyEncoder(320, 90);
      List<byte[]> smallStored = new ArrayList<>();
      for (byte[] b : small) {
        smallStored.add(stored.store(b, imageio.decode(b, 0, 0)).bytes());
      }
      List<byte[]> largeStored = new ArrayList<>();
      for (byte[] b : large) {
        largeStored.add(stored.store(b, imageio.decode(b, 0, 0)).bytes());
      }
      double[] decodeMs = {
        DecodeMeter.scoreCoreMs(fast, pre, small, 2), DecodeMeter.scoreCoreMs(imageio, pre, small, 2),
        DecodeMeter.scoreCoreMs(fast, pre, large, 2), DecodeMeter.scoreCoreMs(imageio, pre, large, 2),
        DecodeMeter.scoreCoreMs(fast, pre, smallStored, 2), DecodeMeter.scoreCoreMs(fast, pre, largeStored, 2)};
      say("decode + resize + normalize of the same photos stored at max side 320: %.2f core-ms"
          + " (from 500x375), %.2f (from 1600x1200)", decodeMs[4], decodeMs[5]);
      say("decode + resize + normalize, 1 thread: %.2f core-ms (%s) vs %.2f (imageio) per 500x375"
          + " photo; %.2f vs %.2f per 1600x1200 photo", decodeMs[0], decoder, decodeMs[1], decodeMs[2],
          decodeMs[3]);
      float[][] fastTensors = IntStream.range(0, engineImages).parallel()
          .mapToObj(i -> {
            try {
              return pre.toChw(fast.decode(photos.jpeg(i), size, size).image().image());
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          })
          .toArray(float[][]::new);
      float[][][] largeTensors = new float[2][][];
      for (int k = 0; k < 2; k++) {
        FastImageDecoder d = k == 0 ? fast : imageio;
        largeTensors[k] = large.parallelStream().map(b -> {
          try {
            return pre.toChw(d.decode(b, size, size).image().image());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }).toArray(float[][]::new);
      }
      double[] agreement = new double[4];

      // The engine alone, both ways of sharing it; turns: every core on one batch at a time;
      // concurrent: one run per core, each on its own thread (intra-op threads as configured,
      // else one).
      int perRun = threads > 0 ? threads : 1;
      int runs = Math.max(1, cores / perRun);
      OnnxScorer.Options turnsOptions = OnnxScorer.Options.defaults().withIntraOpThreads(threads);
      OnnxScorer.Options concurrentOptions =
          OnnxScorer.Options.defaults().withIntraOpThreads(perRun);
      EnginePass[] turns = new EnginePass[2];
      EnginePass[] concurrent = new EnginePass[2];
      EnginePass[] int8Turns = new EnginePass[2];
      EnginePass[] int8Concurrent = new EnginePass[2];
      Int8Meter.Agreement int8Agreement;
      double endToEnd;
      double wall;
      double e2eCpu;
      double embWall = Double.NaN;
      double[] embeddingOverhead = {Double.NaN, Double.NaN};
      String sharing;
      try (OnnxScorer inTurns = new OnnxScorer(onnx, spec, classes.size(), turnsOptions);
          OnnxScorer together = new OnnxScorer(onnx, spec, classes.size(), concurrentOptions);
          OnnxScorer int8InTurns = new OnnxScorer(int8, spec, classes.size(), turnsOptions);
          OnnxScorer int8Together = new OnnxScorer(int8, spec, classes.size(), concurrentOptions)) {
        float[][] first = Arrays.copyOfRange(tensors, 0, Math.min(batch, tensors.length));
        inTurns.probabilities(first);
        together.probabilities(first);
        int8InTurns.probabilities(first);
        int8Together.probabilities(first);
        // K per class as the pool is to the selection: half the images per class, at least 1.
        int8Agreement = Int8Meter.agreement(inTurns, int8InTurns, int8PoolTensors, batch,
            Math.max(1, int8PoolTensors.length / (2 * classes.size())), 1);
        say("INT8 vs FP32 on %d photos: top-1 agreement %.4f, selection overlap %.4f (K = %d,"
            + " P = 1, %d selected)", int8PoolTensors.length, int8Agreement.top1(),
            int8Agreement.selectionOverlap(), int8Agreement.k(), int8Agreement.selected());
        agreement[0] = Agreement.top1(inTurns, tensors, fastTensors, batch);
        agreement[1] = Agreement.topSets(inTurns, tensors, fastTensors, batch, 5);
        agreement[2] = Agreement.top1(inTurns, largeTensors[1], largeTensors[0], batch);
        agreement[3] = Agreement.topSets(inTurns, largeTensors[1], largeTensors[0], batch, 5);
        say("%s vs imageio on the engine: top-1 agreement %.4f, same top-5 set %.4f (%d 500x375"
            + " photos); %.4f, %.4f (%d 1600x1200 photos)", decoder, agreement[0], agreement[1],
            engineImages, agreement[2], agreement[3], largeImages);
        turns[0] = enginePass(inTurns, tensors, 1);
        int8Turns[0] = enginePass(int8InTurns, tensors, 1);
        concurrent[0] = enginePass(together, tensors, runs);
        int8Concurrent[0] = enginePass(int8Together, tensors, runs);
        say("engine INT8: %.1f img/s taking turns, %.1f img/s in %d concurrent runs",
            int8Turns[0].imgPerS(), int8Concurrent[0].imgPerS(), runs);
        say("engine (ONNX Runtime, pre-decoded tensors, batch %d): %.1f img/s taking turns,"
            + " %.1f img/s in %d concurrent runs", batch, turns[0].imgPerS(),
            concurrent[0].imgPerS(), runs);

        // Warm-up: a small run, one batch per task slot, opens this JVM's engine (ExecutorModels)
        // and runs it from every slot, as an executor's first tasks would; the measured run then
        // sees the steady state of an executor that scores thousands of tasks.
        RunContext warm = new RunContext(spark, config.with("run-id", "warmup"));
        int slots = spark.sparkContext().defaultParallelism();
        writeShards(warm, classes, batch * slots, slots, "warmup");
        new ScoreStage().execute(warm);

        long c0e = processCpuNanos();
        t0 = System.nanoTime();
        new ScoreStage().execute(ctx);
        wall = (System.nanoTime() - t0) / 1e9;
        e2eCpu = (processCpuNanos() - c0e) / 1e6 / images;
        long scored = ctx.manifest(ScoreStage.NAME).get("counts").get("scored").asLong();
        if (scored != images) {
          throw new IllegalStateException("Scored " + scored + " of " + images + " images");
        }
        endToEnd = images / wall;
        ScoringEngine engine = Scoring.engine(ctx);
        sharing = engine.concurrent() ? "concurrent" : "turns";
        say("end to end (score stage, engine %s with %s threads per batch, %d decode threads,"
            + " %d batches ahead): %d images in %.1f s = %.1f img/s", sharing,
            engine.threads() == 0 ? "all" : String.valueOf(engine.threads()), decodeThreads,
            prefetchBatches, images, wall, endToEnd);

        if (embeddingEndToEnd) {
          RunContext emb = new RunContext(spark, config.with("run-id", "bench-embeddings")
              .with("base-run", "bench").with("shared-stages", List.of(ShardStage.NAME))
              .with("score.embeddings", true));
          t0 = System.nanoTime();
          new ScoreStage().execute(emb);
          embWall = (System.nanoTime() - t0) / 1e9;
          long embedded = Tables.SCORE_EMBEDDINGS.read(emb).count();
          if (embedded != images) {
            throw new IllegalStateException("Embedded " + embedded + " of " + images + " images");
          }
          say("end to end with score.embeddings: %d images in %.1f s = %.1f img/s (%+.1f%% time"
              + " per image)", images, embWall, images / embWall, 100 * (embWall / wall - 1));
        }

        turns[1] = enginePass(inTurns, tensors, 1);
        int8Turns[1] = enginePass(int8InTurns, tensors, 1);
        concurrent[1] = enginePass(together, tensors, runs);
        int8Concurrent[1] = enginePass(int8Together, tensors, runs);
        say("engine INT8 again: %.1f img/s taking turns, %.1f img/s concurrent",
            int8Turns[1].imgPerS(), int8Concurrent[1].imgPerS());
        say("engine again: %.1f img/s taking turns, %.1f img/s concurrent", turns[1].imgPerS(),
            concurrent[1].imgPerS());
        if (embeddingRounds > 0) {
          embeddingOverhead = embeddingOverhead(inTurns, tensors);
        }
      }
      EnginePass turnsMean = EnginePass.mean(turns);
      EnginePass concurrentMean = EnginePass.mean(concurrent);
      boolean concurrentFaster = concurrentMean.imgPerS() > turnsMean.imgPerS();
      EnginePass best = concurrentFaster ? concurrentMean : turnsMean;
      EnginePass[] bestPasses = concurrentFaster ? concurrent : turns;
      double engineMean = best.imgPerS();
      double int8Engine = Math.max(EnginePass.mean(int8Turns).imgPerS(),
          EnginePass.mean(int8Concurrent).imgPerS());
      say("INT8 engine %.1f img/s = %.2fx FP32's %.1f", int8Engine, int8Engine / engineMean, engineMean);
      Int8Meter.Small demo = null;
      if (int8SmallSteps > 0) {
        demo = Int8Meter.fashionMnist(BenchSupport.fashionMnistDir(fashionMnistDir, config),
            int8SmallSteps, 2000, 256, 3, seed, (e, x, callers) -> enginePass(e, x, callers).imgPerS());
        say("demo teacher (resnet-small, 28x28, %d steps): FP32 %.0f img/s, INT8 %.0f img/s (%.2fx);"
            + " top-1 agreement %.4f, selection overlap %.4f (K = %d) on %d test images", int8SmallSteps,
            demo.fp32ImgS(), demo.int8ImgS(), demo.int8ImgS() / demo.fp32ImgS(),
            demo.agreement().top1(), demo.agreement().selectionOverlap(), demo.agreement().k(),
            demo.poolImages());
      }

      double[] dl4jCpu = new double[1];
      double dl4j = dl4jImagesPerSecond(graph, spec, tensors, cores, dl4jCpu);
      say("DL4J (%d threads, batch %d): %.2f img/s", cores, Math.min(dl4jBatch, batch), dl4j);

      Map<String, Object> json = new LinkedHashMap<>();
      json.put("images", images);
      json.put("shards", shards);
      json.put("avg_jpeg_bytes", jpegBytes / images);
      json.put("input", size + "x" + size);
      json.put("batch", batch);
      json.put("decode_threads", decodeThreads);
      json.put("prefetch_batches", prefetchBatches);
      json.put("cores", cores);
      json.put("end_to_end_wall_s", round(wall, 1));
      json.put("end_to_end_img_s", round(endToEnd, 2));
      json.put("engine_sharing", sharing);
      json.put("engine_img_s", round(engineMean, 2));
      json.put("engine_best_sharing", concurrentFaster ? "concurrent" : "turns");
      json.put("engine_img_s_before", round(bestPasses[0].imgPerS(), 2));
      json.put("engine_img_s_after", round(bestPasses[1].imgPerS(), 2));
      json.put("engine_turns_img_s", round(turnsMean.imgPerS(), 2));
      json.put("engine_concurrent_img_s", round(concurrentMean.imgPerS(), 2));
      json.put("dl4j_img_s", round(dl4j, 2));
      json.put("ratio_end_to_end_vs_engine", round(endToEnd / engineMean, 3));
      json.put("engine_vs_dl4j", round(engineMean / dl4j, 2));
      double engineCpuMean = best.cpuMsPerImage();
      json.put("engine_cpu_ms_per_image", round(engineCpuMean, 1));
      json.put("end_to_end_cpu_ms_per_image", round(e2eCpu, 1));
      json.put("dl4j_cpu_ms_per_image", round(dl4jCpu[0], 1));
      json.put("ratio_end_to_end_vs_engine_cpu", round(engineCpuMean / e2eCpu, 3));
      json.put("decoder", decoder + (fast.fast() ? "" : " (imageio: no OpenCV natives)"));
      json.put("decode_core_ms_large", round(decodeMs[2], 3));
      json.put("decode_core_ms_imageio_large", round(decodeMs[3], 3));
      json.put("decode_core_ms_max_side_320", round(decodeMs[4], 3));
      json.put("decode_core_ms_max_side_320_large", round(decodeMs[5], 3));
      json.put("top5_set_agreement", round(agreement[1], 4));
      json.put("top1_agreement_large", round(agreement[2], 4));
      json.put("top5_set_agreement_large", round(agreement[3], 4));
      json.put("embedding_dims", embeddingDims(onnx, spec, classes.size(), tensors));
      json.put("embedding_rounds", embeddingRounds);
      json.put("embedding_overhead", round(embeddingOverhead[0], 4));
      json.put("embedding_overhead_cpu", round(embeddingOverhead[1], 4));
      json.put("embedding_overhead_end_to_end", round(embWall / wall - 1, 4));
      json.put("load_avg_start", round(loadStart, 1));
      json.put("load_avg_end", round(loadAverage(), 1));
      json.put("decode_core_ms", round(decodeMs[0], 3));
      json.put("decode_core_ms_imageio", round(decodeMs[1], 3));
      json.put("top1_agreement", round(agreement[0], 4));
      json.put("int8_engine_turns_img_s", round(EnginePass.mean(int8Turns).imgPerS(), 2));
      json.put("int8_engine_concurrent_img_s", round(EnginePass.mean(int8Concurrent).imgPerS(), 2));
      json.put("int8_vs_fp32", round(int8Engine / engineMean, 3));
      json.put("int8_pool_images", int8PoolTensors.length);
      json.put("int8_selection_k", int8Agreement.k());
      if (demo != null) {
        json.put("int8_small_fp32_img_s", round(demo.fp32ImgS(), 1));
        json.put("int8_small_img_s", round(demo.int8ImgS(), 1));
        json.put("int8_small_vs_fp32", round(demo.int8ImgS() / demo.fp32ImgS(), 3));
        json.put("int8_small_top1_agreement", round(demo.agreement().top1(), 4));
        json.put("int8_small_selection_overlap", round(demo.agreement().selectionOverlap(), 4));
      }
      json.put("engine_int8_img_s", round(int8Engine, 2));
      json.put("int8_top1_agreement", round(int8Agreement.top1(), 4));
      json.put("int8_selection_overlap", round(int8Agreement.selectionOverlap(), 4));
      System.out.println(RunContext.json().writeValueAsString(json));
      return 0;
    } finally {
      spark.stop();
    }
  }

  /**
   * Writes {@code n} synthetic JPEGs as a committed shard stage of run {@code ctx} (unlabelled
   * split, {@code count} Parquet files, the images table's schema), one shard at a time so memory
   * holds one shard. Returns the JPEG bytes written.
   */
  private long writeShards(RunContext ctx, List<String> classes, int n, int count, String uriPrefix)
      throws IOException {
    SyntheticPhotos photos = new SyntheticPhotos(seed);
    StructType schema = Tables.IMAGES.columns("image_id", "uri", "bytes", "width", "height",
        "format", "label", "label_name");
    org.apache.hadoop.fs.Path stage = ctx.stageDir(ShardStage.NAME);
    long bytes = 0;
    for (int s = 0; s < count; s++) {
      int from = (int) ((long) n * s / count);
      int to = (int) ((long) n * (s + 1) / count);
      List<Row> rows = IntStream.range(from, to).parallel().mapToObj(i -> {
        byte[] jpeg = photos.jpeg(i);
        return RowFactory.create(ContentHash.of(jpeg), uriPrefix + "://photo-" + i + ".jpg", jpeg,
            SyntheticPhotos.DEFAULT_WIDTH, SyntheticPhotos.DEFAULT_HEIGHT, "jpeg", null, null);
      }).toList();
      for (Row r : rows) {
        bytes += ((byte[]) r.get(2)).length;
      }
      Tables.IMAGES.writePartition(ctx.spark().createDataFrame(rows, schema).coalesce(1), stage,
          Tables.UNLABELLED, SaveMode.Append);
    }
    ctx.writeString(new org.apache.hadoop.fs.Path(stage, ShardStage.CLASSES),
        RunContext.json().writeValueAsString(Map.of("classes", classes)));
    ctx.writeString(new org.apache.hadoop.fs.Path(stage, Stage.MANIFEST), "{\"stage\":\"shard\"}");
    ctx.fs().create(new org.apache.hadoop.fs.Path(stage, Stage.SUCCESS), true).close();
    return bytes;
  }

  /** One timed pass of the engine alone: images per second and process CPU ms per image. */
  private record EnginePass(double imgPerS, double cpuMsPerImage) {
    static EnginePass mean(EnginePass[] passes) {
      return new EnginePass((passes[0].imgPerS() + passes[1].imgPerS()) / 2,
          (passes[0].cpuMsPerImage() + passes[1].cpuMsPerImage()) / 2);
    }
  }

  /**
   * Extra time (and process CPU) per image of the embedding output on the engine: {@code
   * embeddingRounds} pairs of passes over the same tensors, plain and with embeddings, in ABBA
   * order; {total with / total without - 1} of wall time and of CPU.
   */
  private double[] embeddingOverhead(OnnxScorer engine, float[][] x) {
    double[] wallNs = new double[2];
    double[] cpuNs = new double[2];
    engine.probabilitiesAndEmbeddings(Arrays.copyOfRange(x, 0, Math.min(batch, x.length)));
    for (int r = 0; r < embeddingRounds; r++) {
      for (int k = 0; k < 2; k++) {
        int with = (r % 2 == 0) == (k == 1) ? 1 : 0; // ABBA: plain first in even rounds
        long c0 = processCpuNanos();
        long t0 = System.nanoTime();
        float sink = 0;
        for (int from = 0; from < x.length; from += batch) {
          float[][] b = Arrays.copyOfRange(x, from, Math.min(from + batch, x.length));
          sink += with == 1 ? engine.probabilitiesAndEmbeddings(b).embeddings()[0][0]
              : engine.probabilities(b)[0][0];
        }
        wallNs[with] += System.nanoTime() - t0;
        cpuNs[with] += processCpuNanos() - c0;
        if (Float.isNaN(sink)) {
          throw new IllegalStateException("NaN outputs");
        }
      }
    }
    double[] out = {wallNs[1] / wallNs[0] - 1, cpuNs[1] / cpuNs[0] - 1};
    say("embedding output on the engine (%d interleaved pairs of passes over %d images):"
        + " %+.2f%% time per image, %+.2f%% CPU", embeddingRounds, x.length, 100 * out[0],
        100 * out[1]);
    return out;
  }

  /** Length of the model's embedding (the pooled features). */
  private int embeddingDims(byte[] onnx, InputSpec spec, int classes, float[][] x) {
    try (OnnxScorer s = new OnnxScorer(onnx, spec, classes,
        OnnxScorer.Options.defaults().withIntraOpThreads(1))) {
      return s.probabilitiesAndEmbeddings(new float[][] {x[0]}).embeddings()[0].length;
    }
  }

  /** All tensors through {@code engine} in batches, {@code callers} threads at once. */
  private EnginePass enginePass(OnnxScorer engine, float[][] x, int callers) throws Exception {
    long c0 = processCpuNanos();
    AtomicInteger next = new AtomicInteger();
    List<Callable<Float>> work = new ArrayList<>();
    for (int c = 0; c < callers; c++) {
      work.add(() -> {
        float sink = 0;
        for (int from = next.getAndAdd(batch); from < x.length; from = next.getAndAdd(batch)) {
          sink += engine.probabilities(
              Arrays.copyOfRange(x, from, Math.min(from + batch, x.length)))[0][0];
        }
        return sink;
      });
    }
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      long t0 = System.nanoTime();
      for (Future<Float> f : pool.invokeAll(work)) {
        if (Float.isNaN(f.get())) {
          throw new IllegalStateException("NaN probabilities");
        }
      }
      double rate = x.length / ((System.nanoTime() - t0) / 1e9);
      return new EnginePass(rate, (processCpuNanos() - c0) / 1e6 / x.length);
    } finally {
      pool.shutdownNow();
    }
  }

  /** Images/s over all tensors in batches, after {@code warmup} untimed batches. */
  private static double imagesPerSecond(Scorer s, float[][] x, int batch, int warmup) {
    for (int w = 0; w < warmup; w++) {
      s.probabilities(Arrays.copyOfRange(x, 0, Math.min(batch, x.length)));
    }
    long t0 = System.nanoTime();
    float sink = 0;
    for (int from = 0; from < x.length; from += batch) {
      sink += s.probabilities(Arrays.copyOfRange(x, from, Math.min(from + batch, x.length)))[0][0];
    }
    double sec = (System.nanoTime() - t0) / 1e9;
    if (Float.isNaN(sink)) {
      throw new IllegalStateException("NaN probabilities");
    }
    return x.length / sec;
  }

  /**
   * DL4J on the same tensors with every core (bin/semisup starts the JVM with one OpenMP thread
   * per op, for Spark's one-task-per-core training), restored afterwards.
   */
  private double dl4jImagesPerSecond(ComputationGraph graph, InputSpec spec, float[][] x,
      int cores, double[] cpuMsPerImage) {
    var env = Nd4j.getEnvironment();
    int maxThreads = env.maxThreads();
    int masterThreads = env.maxMasterThreads();
    int blasThreads = Nd4j.factory().blas().getMaxThreads();
    env.setMaxThreads(cores);
    env.setMaxMasterThreads(cores);
    Nd4j.factory().blas().setMaxThreads(cores);
    int b = Math.min(dl4jBatch, batch);
    try (Dl4jScorer s = new Dl4jScorer(graph, spec)) {
      float[][] timed = Arrays.copyOfRange(x, 0, Math.min(x.length, b * dl4jBatches));
      s.probabilities(Arrays.copyOfRange(timed, 0, b));
      long c0 = processCpuNanos();
      double rate = imagesPerSecond(s, timed, b, 0);
      cpuMsPerImage[0] = (processCpuNanos() - c0) / 1e6 / timed.length;
      return rate;
    } finally {
      env.setMaxThreads(maxThreads);
      env.setMaxMasterThreads(masterThreads);
      Nd4j.factory().blas().setMaxThreads(blasThreads);
    }
  }




  /** Photo {@code i}, decoded and preprocessed as the engine passes' tensors are. */
  private static float[] chw(Preprocessor pre, ImageDecoder decoder, SyntheticPhotos photos, int i) {
    try {
      return pre.toChw(decoder.decode(photos.jpeg(i)).image());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static void say(String fmt, Object... args) {
    System.out.println("bench score: " + String.format(Locale.ROOT, fmt, args));
  }

}
