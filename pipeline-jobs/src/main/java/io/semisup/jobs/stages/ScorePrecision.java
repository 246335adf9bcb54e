package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import io.semisup.core.image.FastImageDecoder;
import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.Preprocessor;
import io.semisup.core.scoring.Int8Quantizer;
import io.semisup.jobs.config.ScoreSettings;
import io.semisup.jobs.spark.ScoringModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code score.precision}: whether {@code score} runs the teacher in FP32 or as its INT8 QDQ model
 * ({@link Int8Quantizer}), which ONNX Runtime runs with integer kernels several times faster on
 * CPUs with VNNI or AMX units (docs/benchmarks.md). The INT8 model is calibrated on a seeded
 * sample of the pool ({@code score.int8-calibration-images} images from at most
 * {@value #CALIBRATION_SHARDS} shards, so calibration reads a few shards, not the pool), decoded
 * as scoring decodes them, and stored in the run as {@code score/}{@value #FILE}.
 *
 * <p>{@code auto} means INT8 where the driver's CPU lists {@code avx512_vnni}, {@code avx_vnni}
 * or {@code amx_int8} in /proc/cpuinfo, the backend is ONNX Runtime, CUDA is off, the teacher
 * is the run's own (an ONNX teacher the user brings is quantized only with {@code int8}: its
 * graph may hold operators the quantizer leaves alone) and its FP32 model is at least
 * {@value #AUTO_MIN_MODEL_BYTES} bytes: {@code bench score} measured ResNet-50 (98 MB) 3.1-3.5x
 * faster in INT8 but the demo's resnet-small (about 0.1 MB) 0.73-0.90x, where the quantize and
 * dequantize nodes cost more than the integer kernels save. The driver decides for all
 * executors, which a cluster of one machine type satisfies.
 *
 * <p>A run that reuses an earlier run's scores ({@code score.reuse-run}) takes that run's stored
 * INT8 model when it was made from the same FP32 teacher with the same calibration settings, so
 * a pool that grew is scored by the same INT8 bytes and the earlier rows stay valid.
 */
final class ScorePrecision {
  private static final Logger LOG = LoggerFactory.getLogger(ScorePrecision.class);

  /** The INT8 teacher's file in the score stage directory. */
  static final String FILE = "teacher-int8.onnx";

  /** Manifest details: the resolved precision, and what the INT8 model was made from. */
  static final String PRECISION = "precision";
  static final String INT8_SOURCE = "int8_source";

  /** The suffix of an INT8 model's id (e.g. {@code run/teacher/onnx-int8}). */
  static final String INT8_SUFFIX = "-int8";

  /** Shards the calibration sample is drawn from, at most. */
  static final int CALIBRATION_SHARDS = 4;

  private ScorePrecision() {}

  /**
   * The smallest FP32 teacher (ONNX bytes, about a million parameters) {@code auto} runs in INT8:
   * between the measured resnet-small (slower in INT8) and ResNet-50 (3.1-3.5x faster).
   */
  static final long AUTO_MIN_MODEL_BYTES = 4L << 20;

  /**
   * "int8" or "fp32": what {@code score.precision} means for this run and a teacher of {@code
   * modelBytes} FP32 ONNX bytes ({@code broughtTeacher}: the user's ONNX file, not the run's own).
   */
  static String resolve(ScoreSettings s, boolean broughtTeacher, long modelBytes) {
    return switch (s.precision()) {
      case "int8" -> "int8";
      case "fp32" -> "fp32";
      default -> s.backend().equals("onnx") && !s.cuda() && !broughtTeacher
          && modelBytes >= AUTO_MIN_MODEL_BYTES && cpuHasInt8Units() ? "int8" : "fp32";
    };
  }

  /** Whether this machine's CPU has integer dot-product units (VNNI or AMX), per /proc/cpuinfo. */
  static boolean cpuHasInt8Units() {
    java.nio.file.Path info = java.nio.file.Path.of("/proc/cpuinfo");
    try {
      if (!Files.isReadable(info)) {
        return false;
      }
      for (String line : Files.readAllLines(info)) {
        if (line.startsWith("flags")) {
          List<String> flags = List.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
          return flags.contains("avx512_vnni") || flags.contains("avx_vnni")
              || flags.contains("amx_int8");
        }
      }
    } catch (IOException e) {
      LOG.warn("Cannot read {} ({}); score.precision=auto scores in FP32", info, e.getMessage());
    }
    return false;
  }

  /** The precision of a model {@link #teacher} returned. */
  static String of(ScoringModel model) {
    return model.modelId().endsWith(INT8_SUFFIX) ? "int8" : "fp32";
  }

  /** What the INT8 model is made from: the FP32 bytes and the calibration settings. */
  static String source(ScoringModel fp32, RunContext ctx) {
    return fp32.digest() + "/calibration=minmax," + ctx.settings().score().int8CalibrationImages()
        + ",seed=" + ctx.settings().run().seed() + ",decoder=" + ctx.settings().score().decoder();
  }

  /**
   * The teacher {@code score} runs: {@code fp32} itself, or its INT8 model (the reused run's
   * stored one when it was made from the same source, else calibrated now).
   */
  static Scoring.Teacher teacher(RunContext ctx, Scoring.Teacher fp32, List<ScoreStage.Shard> shards,
      boolean broughtTeacher) throws IOException {
    ScoringModel m = fp32.model();
    if (resolve(ctx.settings().score(), broughtTeacher, m.bytes().length).equals("fp32")) {
      return fp32;
    }
    String source = source(m, ctx);
    byte[] int8 = stored(ctx, source);
    if (int8 == null) {
      long t0 = System.nanoTime();
      float[][] sample = calibrationSample(ctx, shards, m);
      if (sample.length == 0) {
        LOG.info("[score] no decodable pool image to calibrate INT8 on; scoring in FP32");
        return fp32;
      }
      int8 = Int8Quantizer.defaults().quantize(m.bytes(), sample, m.spec());
      LOG.info("[score] INT8 teacher calibrated on {} pool images in {} s", sample.length,
          String.format(Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9));
    }
    return new Scoring.Teacher(fp32.id(), new ScoringModel(m.modelId() + INT8_SUFFIX, sha256(int8),
        m.backend(), int8, m.spec(), m.numClasses(), m.engine()));
  }

  /** The reused run's INT8 teacher when made from {@code source}; null otherwise. */
  private static byte[] stored(RunContext ctx, String source) throws IOException {
    String other = ctx.settings().score().reuseRun();
    if (other.isEmpty() || other.equals(ctx.runId())) {
      return null;
    }
    Path dir = new Path(new Path(ctx.runDir().getParent(), other), ScoreStage.NAME);
    Path file = new Path(dir, FILE);
    if (!ctx.fs().exists(new Path(dir, Stage.SUCCESS)) || !ctx.fs().exists(file)) {
      return null;
    }
    try (InputStream in = ctx.fs().open(new Path(dir, Stage.MANIFEST))) {
      String recorded = RunContext.json().readTree(in).path("details").path(INT8_SOURCE).asText("");
      if (!recorded.equals(source)) {
        return null;
      }
    }
    try (InputStream in = ctx.fs().open(file)) {
      LOG.info("[score] INT8 teacher of run {} reused (same FP32 teacher and calibration)", other);
      return in.readAllBytes();
    }
  }

  /**
   * Up to {@code score.int8-calibration-images} images of at most {@value #CALIBRATION_SHARDS}
   * seeded-random shards, picked by a seeded hash of their id, decoded and preprocessed as
   * scoring does; undecodable ones are skipped.
   */
  static float[][] calibrationSample(RunContext ctx, List<ScoreStage.Shard> shards, ScoringModel m) {
    if (shards.isEmpty()) {
      return new float[0][];
    }
    long seed = ctx.settings().run().seed();
    List<ScoreStage.Shard> order = new ArrayList<>(shards);
    java.util.Collections.shuffle(order, new Random(seed));
    Dataset<Row> images = null;
    for (ScoreStage.Shard s : order.subList(0, Math.min(CALIBRATION_SHARDS, order.size()))) {
      Dataset<Row> d = ScoreStage.shardImages(ctx, s).select("image_id", "bytes");
      images = images == null ? d : images.union(d);
    }
    int n = ctx.settings().score().int8CalibrationImages();
    List<Row> rows = images
        .orderBy(functions.xxhash64(col("image_id"), functions.lit(seed)), col("image_id"))
        .limit(n).collectAsList();
    FastImageDecoder decoder = new FastImageDecoder(new ImageDecoder(Long.MAX_VALUE, Long.MAX_VALUE),
        FastImageDecoder.Kind.of(ctx.settings().score().decoder()));
    Preprocessor pre = new Preprocessor(m.spec());
    List<float[]> out = new ArrayList<>();
    for (Row r : rows) {
      try {
        out.add(pre.toChw(decoder.decode((byte[]) r.get(1), m.spec().width(), m.spec().height())
            .image().image()));
      } catch (Exception e) {
        // Scoring records such an image as a reject; calibration just leaves it out.
      }
    }
    return out.toArray(float[][]::new);
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
