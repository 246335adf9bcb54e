package io.semisup.jobs.bench;

import static io.semisup.jobs.bench.BenchSupport.deleteTree;
import static io.semisup.jobs.bench.BenchSupport.loadAverage;
import static io.semisup.jobs.bench.BenchSupport.processCpuNanos;
import static io.semisup.jobs.bench.BenchSupport.round;

import io.semisup.core.image.ContentHash;
import io.semisup.core.image.FastImageDecoder;
import io.semisup.core.image.ModelReadyEncoder;
import io.semisup.jobs.tables.Tables;
import org.apache.spark.sql.functions;
import static org.apache.spark.sql.functions.col;
import io.semisup.core.image.ImageDecoder;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.SparkSessions;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.ShardStage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/semisup bench shard}: images per second per core of the {@code shard} stage over
 * ImageNet-like JPEG files ({@link SyntheticPhotos}: about 100 KB, 500x375), against the bare
 * per-image work on one thread measured in the same run.
 *
 * <ul>
 *   <li>stage: the real {@code shard} stage on local Spark (list the folder, read each file,
 *       decode it fully to reject damaged ones, hash it, drop duplicates, write Parquet shards of
 *       the target size, count), images / wall time / Spark cores;
 *   <li>baseline: the same per-image calls in a plain loop on one thread (read the file,
 *       {@link FastImageDecoder#decode}, {@link ContentHash#of}, the re-encode of {@code
 *       --max-side}), no Spark, no Parquet: the most one core can do with this decoder;
 *   <li>the per-image work on one thread ({@link DecodeMeter}), ImageIO with originals stored
 *       against the configured decoder and max side, on the 500x375 photos and on 1600x1200
 *       ones, with the bytes stored per image.
 * </ul>
 *
 * The stage has a fixed cost (a dozen Spark jobs, listing, commit) that a small run cannot
 * amortize, so the stage is also timed on {@value #TINY} images and the marginal rate, (images -
 * {@value #TINY}) / (time - that time), is reported too. Also reports process CPU milliseconds per
 * image for both, which the shared machine's other load does not inflate. The last line of output
 * is one JSON object, ending with {@code cpu_ms_per_image} (the stage's CPU ms per image) and
 * {@code stored_bytes_per_image} (image bytes in the unlabelled shards per image).
 */
@Command(name = "shard", mixinStandardHelpOptions = true,
    description = {"Sharding throughput per core: the shard stage on local Spark vs the bare"
        + " read + decode + hash loop on one thread, over synthetic ~100 KB 500x375 JPEG files.",
        "Last line: one JSON object."})
public final class BenchShard implements Callable<Integer> {

  /** Unlabelled files of the run that measures the stage's fixed cost. */
  private static final int TINY = 8;

  @Option(names = "--images", description = "Unlabelled JPEG files (default ${DEFAULT-VALUE}).")
  int images = 1000;

  @Option(names = "--baseline-images",
      description = "Files the one-thread baseline goes through (default ${DEFAULT-VALUE}).")
  int baselineImages = 300;

  @Option(names = "--cores", description = "Spark local cores (default ${DEFAULT-VALUE}).")
  int cores = 2;

  @Option(names = "--decoder",
      description = "shard.decoder of the stage run: auto, opencv or imageio (default ${DEFAULT-VALUE}).")
  String decoder = "auto";

  @Option(names = "--max-side",
      description = "shard.max-side of the stage run and the per-image meter (0: originals; default ${DEFAULT-VALUE}).")
  int maxSide = 0;

  @Option(names = "--large-images",
      description = "1600x1200 photos the per-image meter also times (default ${DEFAULT-VALUE}).")
  int largeImages = 32;

  @Option(names = "--seed", description = "Seed of the pictures (default ${DEFAULT-VALUE}).")
  long seed = 7;

  @Option(names = "--work-dir",
      description = "Where files, shards and the run go (default: a temporary directory, deleted after).")
  Path workDir;

  @Override
  public Integer call() throws Exception {
    boolean temporary = workDir == null;
    Path work = temporary ? Files.createTempDirectory("bench-shard") : workDir;
    try {
      return run(work);
    } finally {
      if (temporary) {
        deleteTree(work);
      }
    }
  }

  private int run(Path work) throws Exception {
    double loadStart = loadAverage();
    SyntheticPhotos photos = new SyntheticPhotos(seed);
    Path unlabelled = work.resolve("unlabelled");
    Path train = work.resolve("train");
    Path val = work.resolve("val");
    long t0 = System.nanoTime();
    Files.createDirectories(unlabelled);
    long bytes = IntStream.range(0, images).parallel()
        .mapToLong(i -> write(unlabelled.resolve(String.format(Locale.ROOT, "img-%07d.jpg", i)),
            photos.jpeg(i)))
        .sum();
    // The stage needs labelled splits too: two classes of two pictures each, distinct from the
    // unlabelled ones (identical ones would be dropped from unlabelled as leaks).
    for (String cls : List.of("a", "b")) {
      for (int k = 0; k < 2; k++) {
        int i = images + (cls.equals("a") ? 0 : 2) + k;
        Files.createDirectories(train.resolve(cls));
        Files.createDirectories(val.resolve(cls));
        write(train.resolve(cls).resolve("t" + i + ".jpg"), photos.jpeg(i));
        write(val.resolve(cls).resolve("v" + i + ".jpg"), photos.jpeg(i + 100));
      }
    }
    say("%d JPEG files (%.0f KB on average) written in %.1f s", images, bytes / 1e3 / images,
        (System.nanoTime() - t0) / 1e9);

    // Baseline: the stage's per-image calls, one thread, no Spark.
    FastImageDecoder stageDecoder = new FastImageDecoder(new ImageDecoder(67_108_864L, 100_000_000L),
        FastImageDecoder.Kind.of(decoder));
    ModelReadyEncoder encoder = maxSide > 0 ? new ModelReadyEncoder(maxSide, 90) : null;
    int nBase = Math.min(baselineImages, images);
    baseline(stageDecoder, encoder, unlabelled, Math.min(20, nBase)); // warm the JIT and the decoder
    long cpu0 = processCpuNanos();
    t0 = System.nanoTime();
    baseline(stageDecoder, encoder, unlabelled, nBase);
    double baseWall = (System.nanoTime() - t0) / 1e9;
    double baseCpu = (processCpuNanos() - cpu0) / 1e9;
    double basePerCore = nBase / baseWall;
    say("baseline (read + decode + hash, 1 thread): %.1f img/s, %.2f CPU ms per image",
        basePerCore, 1000 * baseCpu / nBase);

    // The per-image work of the stage on one thread, ImageIO (check decode, original stored) vs
    // the configured decoder and max side, on the photos above and on large ones.
    FastImageDecoder fast = DecodeMeter.of(decoder);
    List<byte[]> small = IntStream.range(0, Math.min(nBase, 128)).mapToObj(photos::jpeg).toList();
    SyntheticPhotos largePhotos = new SyntheticPhotos(seed + 1, 1600, 1200, SyntheticPhotos.DEFAULT_QUALITY);
    List<byte[]> large = IntStream.range(0, largeImages).parallel().mapToObj(largePhotos::jpeg).toList();
    DecodeMeter.ShardWork[] perImage = {
      DecodeMeter.shardCoreMs(fast, encoder, small, 2),
      DecodeMeter.shardCoreMs(DecodeMeter.imageio(), null, small, 2),
      DecodeMeter.shardCoreMs(fast, encoder, large, 2),
      DecodeMeter.shardCoreMs(DecodeMeter.imageio(), null, large, 2)};
    say("per image, 1 thread (check decode%s + hash): %.2f core-ms, %.0f bytes stored (%s) vs %.2f,"
        + " %.0f (imageio, originals) per 500x375 photo; %.2f, %.0f vs %.2f, %.0f per 1600x1200 photo",
        maxSide > 0 ? " + re-encode at " + maxSide : "", perImage[0].coreMs(), perImage[0].storedBytes(),
        decoder, perImage[1].coreMs(), perImage[1].storedBytes(), perImage[2].coreMs(),
        perImage[2].storedBytes(), perImage[3].coreMs(), perImage[3].storedBytes());

    SemisupConfig config = SemisupConfig.load("local", null, List.of(
        "spark.master=\"local[" + cores + "]\"",
        "root=\"" + work.resolve("runs") + "\"",
        "run-id=bench",
        "data.train-dir=\"" + train + "\"",
        "data.val-dir=\"" + val + "\"",
        "data.unlabelled-dir=\"" + unlabelled + "\"",
        "shard.decoder=" + decoder,
        "shard.max-side=" + maxSide));
    SparkSession spark = SparkSessions.create(config);
    try {
      // A tiny run twice: the first warms the JIT; the second measures the stage's fixed cost
      // (its Spark jobs, listing, commits), which the marginal rate below leaves out.
      Path tiny = work.resolve("tiny");
      Files.createDirectories(tiny);
      for (int i = 0; i < TINY; i++) {
        write(tiny.resolve("w" + i + ".jpg"), photos.jpeg(images + 200 + i));
      }
      double fixed = 0;
      for (String id : List.of("warmup", "fixed")) {
        t0 = System.nanoTime();
        new ShardStage().execute(new RunContext(spark, config.with("run-id", id)
            .with("data.unlabelled-dir", tiny.toString())));
        fixed = (System.nanoTime() - t0) / 1e9;
      }
      say("shard stage on %d images (fixed cost): %.1f s", TINY, fixed);

      RunContext ctx = new RunContext(spark, config);
      cpu0 = processCpuNanos();
      t0 = System.nanoTime();
      new ShardStage().execute(ctx);
      double wall = (System.nanoTime() - t0) / 1e9;
      double cpu = (processCpuNanos() - cpu0) / 1e9;
      var counts = ctx.manifest(ShardStage.NAME).get("counts");
      long kept = counts.get("unlabelled_kept").asLong();
      long read = counts.get("unlabelled_read").asLong();
      if (read != images || kept != images) {
        throw new IllegalStateException("The shard stage read " + read + " and kept " + kept
            + " of " + images + " unlabelled files");
      }
      double perCore = images / wall / cores;
      double marginal = (images - TINY) / Math.max(1e-9, wall - fixed) / cores;
      say("shard stage (local[%d]): %d images in %.1f s = %.1f img/s/core (%.1f beyond the fixed"
          + " cost), %.2f CPU ms per image (all splits, %d shards)", cores, images, wall, perCore,
          marginal, 1000 * cpu / images, counts.get("unlabelled_shards").asLong());

      Map<String, Object> json = new LinkedHashMap<>();
      json.put("images", images);
      json.put("avg_jpeg_bytes", bytes / images);
      json.put("cores", cores);
      json.put("stage_wall_s", round(wall, 1));
      json.put("images_per_s_per_core", round(perCore, 1));
      json.put("baseline_images_per_s_per_core", round(basePerCore, 1));
      json.put("ratio_vs_baseline", round(perCore / basePerCore, 3));
      json.put("fixed_cost_s", round(fixed, 1));
      json.put("marginal_images_per_s_per_core", round(marginal, 1));
      json.put("marginal_ratio_vs_baseline", round(marginal / basePerCore, 3));
      json.put("stage_cpu_ms_per_image", round(1000 * cpu / images, 2));
      json.put("baseline_cpu_ms_per_image", round(1000 * baseCpu / nBase, 2));
      long storedBytes = Tables.IMAGES.read(ctx).where(col("split").equalTo(Tables.UNLABELLED))
          .agg(functions.sum(functions.length(col("bytes")))).first().getLong(0);
      json.put("decoder", decoder + (fast.fast() ? "" : " (imageio: no OpenCV natives)"));
      json.put("max_side", maxSide);
      json.put("shard_core_ms", round(perImage[0].coreMs(), 3));
      json.put("shard_core_ms_imageio", round(perImage[1].coreMs(), 3));
      json.put("shard_core_ms_large", round(perImage[2].coreMs(), 3));
      json.put("shard_core_ms_imageio_large", round(perImage[3].coreMs(), 3));
      json.put("stored_bytes_per_image_large", Math.round(perImage[2].storedBytes()));
      json.put("original_bytes_per_image_large", Math.round(perImage[3].storedBytes()));
      json.put("load_avg_start", round(loadStart, 1));
      json.put("load_avg_end", round(loadAverage(), 1));
      json.put("cpu_ms_per_image", round(1000 * cpu / images, 2));
      json.put("stored_bytes_per_image", Math.round(storedBytes / (double) images));
      System.out.println(RunContext.json().writeValueAsString(json));
      return 0;
    } finally {
      spark.stop();
    }
  }

  /**
   * What the stage does per file, minus Spark: read, decode (rejecting bad files), hash and, with
   * a max side, re-encode.
   */
  private static void baseline(FastImageDecoder decoder, ModelReadyEncoder encoder, Path dir, int n)
      throws Exception {
    for (int i = 0; i < n; i++) {
      byte[] b = Files.readAllBytes(dir.resolve(String.format(Locale.ROOT, "img-%07d.jpg", i)));
      DecodeMeter.shardOne(decoder, encoder, b);
    }
  }

  private static long write(Path p, byte[] b) {
    try {
      Files.write(p, b);
      return b.length;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }



  private static void say(String fmt, Object... args) {
    System.out.println("bench shard: " + String.format(Locale.ROOT, fmt, args));
  }

}
