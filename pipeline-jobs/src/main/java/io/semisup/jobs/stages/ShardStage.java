package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import io.semisup.core.UsageError;
import io.semisup.core.image.ContentHash;
import io.semisup.core.image.FastImageDecoder;
import io.semisup.core.image.ImageDecoder;
import io.semisup.core.image.ModelReadyEncoder;
import io.semisup.core.image.ImageRejectedException;
import io.semisup.core.image.RejectReason;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.ImageSource;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.SerializableConfiguration;

/**
 * Reads images from folders or URI listings into Parquet shards of bytes, so that later stages
 * read a few large files instead of millions of small ones. Every input ends up in exactly one
 * place: the {@code images} table, the {@code rejects} table (with the reason), or the
 * {@code duplicates} table (with the copy kept; a training copy of an evaluation image is also
 * in rejects, as SAME_AS_EVAL, and counted as rejected); the manifest's counts add up per split.
 *
 * <p>A pool that grew ({@code shard.reuse-run}, {@link ShardReuse}): files an earlier run decoded
 * (same uri, split and size) are not read again; its rows stand for them, and everything after
 * the decode runs over all rows, so the tables equal a fresh run's ({@code <split>_reused} counts).
 *
 * <p>The validation split ({@link Tables#VALIDATION}, the labels that choose settings) is a folder
 * ({@code data.validation-dir}, or the import's {@code validation/} when the labelled images come
 * from the import), or, with {@code data.validation-fraction}, a seeded share of each class's
 * labelled images moved out of the training split ({@link #carveValidation}). Like the test split,
 * it keeps an image that training also holds, and the training copy is rejected.
 */
public final class ShardStage extends Stage {

  public static final String NAME = "shard";
  public static final String CLASSES = "classes.json";
  /** The measured input statistics, beside {@link #CLASSES}: {@link InputStatistics#FILE}. */
  public static final String INPUT_STATS = InputStatistics.FILE;

  /** Reasons of the duplicates table besides {@link RejectReason#SAME_AS_EVAL}. */
  static final String DUPLICATE = "DUPLICATE";
  static final String SAME_AS_LABELLED = "SAME_AS_LABELLED";

  /** Runs after every split is listed and before any file is read: the tests' seam. */
  private Runnable afterListing = () -> {};

  /** This stage, running {@code hook} between listing and reading (a test deletes a file there). */
  ShardStage afterListing(Runnable hook) {
    this.afterListing = hook;
    return this;
  }

  /** Decoded-or-rejected row, before dedupe. */
  static final StructType DECODED =
      new StructType()
          .add("uri", DataTypes.StringType, false)
          .add("split", DataTypes.StringType, false)
          .add("label_name", DataTypes.StringType, true)
          .add("image_id", DataTypes.StringType, true)
          .add("bytes", DataTypes.BinaryType, true)
          .add("width", DataTypes.IntegerType, true)
          .add("height", DataTypes.IntegerType, true)
          .add("format", DataTypes.StringType, true)
          .add("reason", DataTypes.StringType, true)
          .add("detail", DataTypes.StringType, true);

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Images from folders or URI listings -> Parquet shards of bytes; rejects with reasons.";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(ImportFashionMnistStage.NAME);
  }

  /** Reads image folders or listings (the import's, by default), not tables. */
  @Override
  public List<Table> inputs() {
    return List.of();
  }

  @Override
  public List<Table> outputs() {
    return List.of(Tables.IMAGES, Tables.SHARD_REJECTS, Tables.DUPLICATES);
  }

  @Override
  protected List<String> requires(RunContext ctx) {
    return usesImport(ctx.config()) ? dependsOn() : List.of();
  }

  /**
   * Shard reads the Fashion-MNIST import only for the input folders left empty: when some are set,
   * the user means their own data, so the hint names the keys still missing.
   */
  @Override
  protected String missingInputHint(RunContext ctx, String dep) {
    var d = ctx.settings().data();
    List<String> missing = new java.util.ArrayList<>();
    if (d.trainDir().isEmpty()) {
      missing.add("data.train-dir");
    }
    if (d.valDir().isEmpty()) {
      missing.add("data.val-dir");
    }
    if (d.unlabelledDir().isEmpty() && d.unlabelledListing().isEmpty()) {
      missing.add("data.unlabelled-dir (or data.unlabelled-listing)");
    }
    if (missing.size() == 3) {
      return super.missingInputHint(ctx, dep);
    }
    return "With your own images, set " + String.join(" and ", missing) + " too (or use `bin/semisup run"
        + " --labelled DIR --test DIR --unlabelled DIR`); only with none of them set does shard read the"
        + " Fashion-MNIST import.";
  }

  @Override
  protected List<String> configKeys() {
    return List.of("data.train-dir", "data.val-dir", "data.validation-dir", "data.validation-fraction",
        "data.unlabelled-dir", "data.unlabelled-listing", "data.allow-empty-unlabelled", "data.class-names",
        "shard", "seed");
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  private static boolean usesImport(SemisupConfig c) {
    return c.settings().data().trainDir().isEmpty()
        || c.settings().data().valDir().isEmpty()
        || (c.settings().data().unlabelledDir().isEmpty()
            && c.settings().data().unlabelledListing().isEmpty());
  }

  private static String orImport(RunContext ctx, String v, String child) {
    return v.isEmpty() ? ctx.stagePath(ImportFashionMnistStage.NAME, child) : v;
  }

  /** The unlabelled folder of this run, or null when the unlabelled images come from a listing. */
  public static String unlabelledRoot(RunContext ctx) {
    ImageSource unlabelled = sources(ctx).get(sources(ctx).size() - 1);
    return unlabelled.isListing() ? null : unlabelled.location();
  }

  /** Whether shard carves the validation split out of the labelled images (no folder given). */
  static boolean carvesValidation(SemisupConfig c) {
    return c.settings().data().validationDir().isEmpty() && c.settings().data().validationFraction() > 0;
  }

  /**
   * The validation folder of this run, or null when there is none or it is carved from the
   * labelled images ({@code data.validation-fraction}).
   */
  static String validationFolder(RunContext ctx) {
    var d = ctx.settings().data();
    if (!d.validationDir().isEmpty()) {
      return d.validationDir();
    }
    if (d.validationFraction() > 0 || !d.trainDir().isEmpty()) {
      return null;
    }
    return ctx.stagePath(ImportFashionMnistStage.NAME, ImportFashionMnistStage.VALIDATION);
  }

  /** The inputs of this run: train, val, the validation folder when there is one, unlabelled last. */
  static List<ImageSource> sources(RunContext ctx) {
    SemisupConfig c = ctx.config();
    String listing = c.settings().data().unlabelledListing();
    ImageSource unlabelled =
        listing.isEmpty()
            ? new ImageSource(Tables.UNLABELLED, orImport(ctx, c.settings().data().unlabelledDir(), "unlabelled"), false, false)
            : new ImageSource(Tables.UNLABELLED, listing, true, false);
    List<ImageSource> sources = new java.util.ArrayList<>();
    sources.add(new ImageSource(Tables.TRAIN, orImport(ctx, c.settings().data().trainDir(), "train"), false, true));
    sources.add(new ImageSource(Tables.VAL, orImport(ctx, c.settings().data().valDir(), "val"), false, true));
    String validation = validationFolder(ctx);
    if (validation != null) {
      sources.add(new ImageSource(Tables.VALIDATION, validation, false, true));
    }
    sources.add(unlabelled);
    return List.copyOf(sources);
  }

  @Override
  protected void run(RunContext ctx, Path out, StageReport report) throws Exception {
    SemisupConfig c = ctx.config();
    List<ImageSource> sources = sources(ctx);
    List<String> classes = ImageSource.classNames(ctx.fs(), new Path(sources.get(0).location()));
    Map<String, Object> classesJson = new java.util.LinkedHashMap<>();
    classesJson.put("classes", classes);
    classesJson.put("names", ClassNames.load(ctx.fs().getConf(), c.settings().data().classNames(), classes));
    ctx.writeString(new Path(out, CLASSES), RunContext.json().writeValueAsString(classesJson));

    Dataset<Row> listed = null;
    for (ImageSource s : sources) {
      Dataset<Row> files = s.list(ctx.spark()).withColumn("split", functions.lit(s.split()));
      requireInputs(ctx, s, files);
      listed = listed == null ? files : listed.unionByName(files);
    }
    afterListing.run();
    Broadcast<SerializableConfiguration> hadoopConf =
        ctx.spark().sparkContext().broadcast(
            new SerializableConfiguration(ctx.spark().sparkContext().hadoopConfiguration()),
            scala.reflect.ClassTag$.MODULE$.apply(SerializableConfiguration.class));
    FastImageDecoder decoder = new FastImageDecoder(
        new ImageDecoder(c.settings().shard().maxImageBytes(), c.settings().shard().maxImagePixels(),
            c.settings().shard().maxDecodeMillis()),
        FastImageDecoder.Kind.of(c.settings().shard().decoder()));
    ModelReadyEncoder modelReady = c.settings().shard().maxSide() > 0
        ? new ModelReadyEncoder(c.settings().shard().maxSide(), c.settings().shard().storedQuality())
        : null;
    Dataset<Row> toRead = listed.select("uri", "length", "split", "label_name", "reason", "detail");
    java.util.Optional<ShardReuse> reuse = ShardReuse.find(ctx);
    Dataset<Row> decoded = reuse.map(r -> r.unread(toRead)).orElse(toRead)
        .mapPartitions(new ReadAndDecode(decoder, modelReady, hadoopConf), Encoders.row(DECODED))
        .withColumn("reused", functions.lit(false));
    if (reuse.isPresent()) {
      decoded = decoded.unionByName(reuse.get().decoded(toRead).withColumn("reused", functions.lit(true)));
      report.detail("reused_from", reuse.get().runId());
    }
    decoded = decoded.persist(StorageLevel.MEMORY_AND_DISK());
    // Decode everything once, in parallel, into the cache, and count per split on the way: later
    // passes (the single rejects file, dedupe, per-split writes) read the cache instead of
    // narrowing the decode itself into one task.
    Map<String, long[]> decodeCounts = new java.util.HashMap<>();
    for (Row r :
        decoded.groupBy("split")
            .agg(functions.count("*"), functions.sum(functions.when(col("reason").isNotNull(), 1).otherwise(0)),
                functions.sum(functions.when(col("reused"), 1).otherwise(0)))
            .collectAsList()) {
      decodeCounts.put(r.getString(0), new long[] {r.getLong(1), r.isNullAt(2) ? 0 : r.getLong(2),
          r.isNullAt(3) ? 0 : r.getLong(3)});
    }

    // Labelled images whose folder is not a training class cannot be used: reject them.
    Dataset<Row> withLabel =
        decoded.withColumn("label", labelIndex(classes))
            .withColumn(
                "reason",
                functions.when(
                        col("reason").isNull().and(col("label_name").isNotNull()).and(col("label").isNull()),
                        functions.lit("UNKNOWN_CLASS"))
                    .otherwise(col("reason")))
            .withColumn(
                "detail",
                functions.when(
                        col("reason").equalTo("UNKNOWN_CLASS"),
                        functions.concat(
                            functions.lit("folder '"), col("label_name"),
                            functions.lit("' is not a class of the training split")))
                    .otherwise(col("detail")));

    Dataset<Row> ok = withLabel.filter(col("reason").isNull());
    // Exact duplicates within a split: keep the smallest uri, deterministically.
    Dataset<Row> ranked =
        ok.withColumn("dup_rank", functions.row_number().over(Window.partitionBy("split", "image_id").orderBy("uri")))
            .withColumn("kept_uri", functions.first("uri").over(Window.partitionBy("split", "image_id").orderBy("uri")));
    Dataset<Row> unique = ranked.filter(col("dup_rank").equalTo(1)).drop("dup_rank", "kept_uri").persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> sameSplit =
        duplicateRows(ranked.filter(col("dup_rank").gt(1)), col("split"), DUPLICATE);
    // A training image identical to an evaluation image (test or validation) would inflate that
    // evaluation: the evaluation split keeps it, the training split rejects its copy (kept_split
    // names the test split when both hold it).
    org.apache.spark.sql.Column held = col("split").isin(Tables.VAL, Tables.VALIDATION);
    Dataset<Row> valIds = unique.filter(held)
        .withColumn("eval_rank", functions.row_number().over(Window.partitionBy("image_id").orderBy("split")))
        .filter(col("eval_rank").equalTo(1))
        .select(col("image_id").as("eval_id"), col("uri").as("kept_uri"), col("split").as("kept_split"));
    Dataset<Row> trainUnique = unique.filter(col("split").equalTo(Tables.TRAIN));
    Dataset<Row> trainInVal = trainUnique.join(valIds, trainUnique.col("image_id").equalTo(valIds.col("eval_id")));
    Dataset<Row> sameAsEval =
        duplicateRows(trainInVal, col("kept_split"), RejectReason.SAME_AS_EVAL.name());
    Dataset<Row> labelled =
        unique.filter(held)
            .unionByName(trainUnique.join(valIds, trainUnique.col("image_id").equalTo(valIds.col("eval_id")), "left_anti"));
    // An unlabelled image identical to a labelled one would leak evaluation images into the
    // student's training set (or duplicate training ones): drop it, counted apart.
    Dataset<Row> labelledIds = labelled.select(
        col("image_id").as("labelled_id"), col("uri").as("kept_uri"), col("split").as("kept_split"));
    Dataset<Row> unlabelledUnique = unique.filter(col("split").equalTo(Tables.UNLABELLED));
    Dataset<Row> unlabelledLeaks =
        unlabelledUnique.join(labelledIds, unlabelledUnique.col("image_id").equalTo(labelledIds.col("labelled_id")));
    Dataset<Row> sameAsLabelled = duplicateRows(unlabelledLeaks, col("kept_split"), SAME_AS_LABELLED);
    Dataset<Row> unlabelledClean = unlabelledUnique.join(labelledIds, unlabelledUnique.col("image_id").equalTo(labelledIds.col("labelled_id")), "left_anti");
    Dataset<Row> images =
        carveValidation(labelled.unionByName(unlabelledClean),
                carvesValidation(c) ? c.settings().data().validationFraction() : 0, c.settings().run().seed())
            .select(
                col("image_id"), col("uri"), col("bytes"), col("width"), col("height"),
                col("format"), col("split"), col("label"), col("label_name"));
    Dataset<Row> duplicates =
        sameSplit.unionByName(sameAsEval).unionByName(sameAsLabelled).persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> rejects =
        withLabel.filter(col("reason").isNotNull())
            .select(col("uri"), col("split"), col("reason"), col("detail"), functions.lit(NAME).as("stage"))
            .unionByName(sameAsEval.select(
                col("uri"), col("split"), col("reason"),
                functions.concat(functions.lit("same bytes as "), col("kept_uri")).as("detail"),
                functions.lit(NAME).as("stage")))
            .persist(StorageLevel.MEMORY_AND_DISK());

    Tables.SHARD_REJECTS.write(rejects.coalesce(1), out);
    Tables.DUPLICATES.write(duplicates.coalesce(1), out);
    Map<String, Long> rejectedBySplit = countBy(rejects.groupBy("split").count());
    Map<String, Long> dropped = countBy(duplicates.groupBy(functions.concat_ws("/", col("split"), col("reason"))).count());
    long targetBytes = c.settings().shard().targetShardBytes();
    List<String> splits = new java.util.ArrayList<>(sources.stream().map(ImageSource::split).toList());
    boolean carved = carvesValidation(c);
    long moved = 0;
    if (carved) {
      splits.add(Tables.VALIDATION);
      moved = images.filter(col("split").equalTo(Tables.VALIDATION)).count();
    }
    for (String splitName : splits) {
      Dataset<Row> split = images.filter(col("split").equalTo(splitName)).drop("split").persist(StorageLevel.MEMORY_AND_DISK());
      Row agg =
          split.agg(functions.count("*"), functions.sum(functions.length(col("bytes"))), functions.sum(storedBytes()))
              .first();
      long kept = agg.getLong(0);
      long bytes = agg.isNullAt(1) ? 0 : agg.getLong(1);
      long stored = agg.isNullAt(2) ? 0 : agg.getLong(2);
      int shards = shardCount(stored, targetBytes);
      Tables.IMAGES.writePartition(
          split.repartition(shards, col("image_id")).sortWithinPartitions("image_id"),
          out, splitName, SaveMode.ErrorIfExists);
      split.unpersist();
      if (carved && splitName.equals(Tables.VALIDATION)) {
        // Moved out of the training split, not read: counted there (train_carved_to_validation).
        report.count(splitName + "_kept", kept).count(splitName + "_shards", shards).count(splitName + "_bytes", bytes);
        continue;
      }
      long read = decodeCounts.getOrDefault(splitName, new long[3])[0];
      report.count(splitName + "_reused", decodeCounts.getOrDefault(splitName, new long[3])[2]);
      long rejected = rejectedBySplit.getOrDefault(splitName, 0L);
      long dupCount = dropped.getOrDefault(splitName + "/" + DUPLICATE, 0L);
      long leaks = dropped.getOrDefault(splitName + "/" + SAME_AS_LABELLED, 0L);
      long carvedHere = splitName.equals(Tables.TRAIN) ? moved : 0;
      if (read != kept + dupCount + rejected + leaks + carvedHere) {
        throw new IllegalStateException("Cannot account for every input of split " + splitName + ": read " + read
            + " != kept " + kept + " + duplicates " + dupCount + " + rejected " + rejected + " + same-as-labelled " + leaks
            + " + carved to validation " + carvedHere
            + ". This is a bug in the shard stage; please report it with the run's shard/rejects and shard/duplicates.");
      }
      if (carved && splitName.equals(Tables.TRAIN)) {
        report.count(Tables.TRAIN + "_carved_to_validation", moved);
      }
      report.count(splitName + "_read", read)
          .count(splitName + "_kept", kept)
          .count(splitName + "_duplicates", dupCount)
          .count(splitName + "_rejected", rejected)
          .count(splitName + "_same_as_labelled", leaks)
          .count(splitName + "_shards", shards)
          .count(splitName + "_bytes", bytes);
      log.info("[shard] {}: read {} = kept {} + duplicates {} + rejected {} + same-as-labelled {} + carved {} ({} shards)",
          splitName, read, kept, dupCount, rejected, leaks, carvedHere, shards);
    }
    // The labelled images describe the model's input: colour or grey, mean and std (TrainingInput).
    InputStatistics stats = InputStatistics.measure(
        images.filter(col("split").equalTo(Tables.TRAIN)).select("image_id", "bytes"));
    stats.write(ctx, out);
    report.detail("input_channels", stats.channels()).detail("input_stats_images", stats.sampledImages())
        .detail("input_colour_images", stats.colourImages());
    report.count(Tables.TRAIN + "_same_as_eval", dropped.getOrDefault(Tables.TRAIN + "/" + RejectReason.SAME_AS_EVAL.name(), 0L));
    rejects.unpersist();
    duplicates.unpersist();
    unique.unpersist();
    report.detail("classes", classes);
    decoded.unpersist();
  }

  /**
   * Fails on a split with nothing in it: an empty folder is almost always a wrong path, and a run
   * that goes on trains or evaluates on nothing. The unlabelled split may be empty when
   * {@code data.allow-empty-unlabelled} says so (the all-labels ceiling of the ablations).
   */
  private static void requireInputs(RunContext ctx, ImageSource s, Dataset<Row> files) {
    SemisupConfig c = ctx.config();
    // The import writes an empty validation folder with data.validation-size = 0: no validation split.
    boolean importedValidation = s.split().equals(Tables.VALIDATION) && c.settings().data().validationDir().isEmpty();
    boolean mayBeEmpty = s.split().equals(Tables.UNLABELLED) && c.settings().data().allowEmptyUnlabelled()
        || importedValidation;
    if (!mayBeEmpty && files.isEmpty()) {
      throw new UsageError("Cannot shard split " + s.split() + ": " + s.location() + " holds no files. "
          + (s.split().equals(Tables.UNLABELLED)
              ? "Point data.unlabelled-dir or data.unlabelled-listing at the images, or set data.allow-empty-unlabelled = true."
              : "Point data." + s.split() + "-dir at a folder of <class>/<image> files."));
    }
  }

  /**
   * Moves a seeded share of each class's training images into the validation split: per class,
   * the {@code round(fraction * n)} images (at most n - 1, so no class is emptied) of smallest
   * SHA-256 of seed and image id. By content, not by listing order, so the same folder and seed
   * give the same split on any file system and any partitioning.
   */
  static Dataset<Row> carveValidation(Dataset<Row> images, double fraction, long seed) {
    if (fraction <= 0) {
      return images;
    }
    org.apache.spark.sql.Column isTrain = col("split").equalTo(Tables.TRAIN);
    org.apache.spark.sql.expressions.WindowSpec byClass = Window.partitionBy("label");
    Dataset<Row> train = images.filter(isTrain)
        .withColumn("carve_key", functions.sha2(functions.concat(functions.lit(seed + ":"), col("image_id")), 256))
        .withColumn("carve_rank", functions.row_number().over(byClass.orderBy("carve_key", "image_id")))
        .withColumn("carve_n", functions.count("*").over(byClass));
    org.apache.spark.sql.Column take = functions.least(
        functions.round(col("carve_n").multiply(fraction)).cast("long"), col("carve_n").minus(1));
    return images.filter(functions.not(isTrain)).unionByName(train
        .withColumn("split", functions.when(col("carve_rank").leq(take), functions.lit(Tables.VALIDATION))
            .otherwise(col("split")))
        .drop("carve_key", "carve_rank", "carve_n"));
  }

  /** Rows of the duplicates table from dropped rows that carry {@code kept_uri}. */
  private static Dataset<Row> duplicateRows(Dataset<Row> dropped, org.apache.spark.sql.Column keptSplit, String reason) {
    return dropped.select(
        col("uri"), col("split"), col("image_id"), col("kept_uri"), keptSplit.as("kept_split"),
        functions.lit(reason).as("reason"));
  }

  private static Map<String, Long> countBy(Dataset<Row> counts) {
    Map<String, Long> m = new java.util.HashMap<>();
    for (Row r : counts.collectAsList()) {
      m.put(r.getString(0), r.getLong(1));
    }
    return m;
  }

  /**
   * Bytes a row takes in a shard, estimated: the image bytes (already compressed, so Parquet's
   * codec leaves them as they are) plus the other columns. For small images (28x28 PNGs of a few
   * hundred bytes) the 64-character id and the uri are a third of the row, so counting only
   * the image bytes would make shards half again too large.
   */
  static org.apache.spark.sql.Column storedBytes() {
    return functions.length(col("bytes"))
        .plus(functions.length(col("uri")))
        .plus(functions.length(col("image_id")))
        .plus(functions.coalesce(functions.length(col("label_name")), functions.lit(0)))
        .plus(ROW_OVERHEAD_BYTES)
        .cast("long");
  }

  /** width, height, label (ints), format, and Parquet's per-value lengths and levels. */
  static final int ROW_OVERHEAD_BYTES = 24;

  /** Shards for {@code storedBytes} of rows so that each holds about {@code targetBytes}. */
  public static int shardCount(long storedBytes, long targetBytes) {
    if (targetBytes <= 0) {
      throw new IllegalArgumentException("Cannot cut shards of " + targetBytes + " bytes: set shard.target-shard-bytes > 0");
    }
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.round(storedBytes / (double) targetBytes)));
  }

  private static org.apache.spark.sql.Column labelIndex(List<String> classes) {
    org.apache.spark.sql.Column expr = functions.lit(null).cast("int");
    for (int i = classes.size() - 1; i >= 0; i--) {
      expr = functions.when(col("label_name").equalTo(classes.get(i)), i).otherwise(expr);
    }
    return expr;
  }

  /**
   * Reads each file's bytes (refusing huge ones by size first), decodes its header/pixels and,
   * with {@code shard.max-side}, re-encodes it at that longest side. Without it, JPEGs are
   * checked by a decode at 1/8 scale (all of the entropy-coded data, an eighth of the pixels):
   * only the verdict and the header's size are kept.
   */
  static final class ReadAndDecode implements MapPartitionsFunction<Row, Row> {
    private final FastImageDecoder fast;
    private final ImageDecoder decoder;
    private final ModelReadyEncoder modelReady;
    private final Broadcast<SerializableConfiguration> conf;

    /** @param modelReady null to store the original bytes */
    ReadAndDecode(FastImageDecoder fast, ModelReadyEncoder modelReady,
        Broadcast<SerializableConfiguration> conf) {
      this.fast = fast;
      this.decoder = fast.imageio();
      this.modelReady = modelReady;
      this.conf = conf;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
      // Lazy: one image's bytes in flight at a time, not a whole partition's.
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return input.hasNext();
        }

        @Override
        public Row next() {
          Row r = input.next();
          String label = r.isNullAt(3) ? null : r.getString(3);
          if (!r.isNullAt(4)) { // the listing could not read it (unreadable folder, symlink loop, FIFO)
            return reject(r.getString(0), r.getString(2), label, r.getString(4), r.isNullAt(5) ? null : r.getString(5));
          }
          return decodeOne(r.getString(0), r.getLong(1), r.getString(2), label);
        }
      };
    }

    private Row decodeOne(String uri, long length, String split, String label) {
      byte[] bytes;
      try {
        Path p = new Path(uri);
        FileSystem fs = p.getFileSystem(conf.value().value());
        if (length < 0) {
          length = fs.getFileStatus(p).getLen();
        }
        if (length > decoder.maxBytes()) {
          return reject(uri, split, label, RejectReason.TOO_LARGE.name(),
              length + " bytes > shard.max-image-bytes " + decoder.maxBytes());
        }
        if ("file".equals(fs.getScheme())) {
          // Local files: NIO, not Hadoop's checksummed local file system (a .crc probe per file).
          // Qualified first: a listing line may be a plain path ("/data/a.jpg", no scheme).
          java.nio.file.Path local = java.nio.file.Paths.get(fs.makeQualified(p).toUri());
          if (!java.nio.file.Files.readAttributes(local, java.nio.file.attribute.BasicFileAttributes.class).isRegularFile()) {
            return reject(uri, split, label, RejectReason.UNREADABLE.name(),
                "not a regular file (a folder, FIFO, socket or device: reading it could block or never end)");
          }
          try (InputStream in = java.nio.file.Files.newInputStream(local)) {
            bytes = readAtMost(in, decoder.maxBytes());
          }
        } else {
          try (InputStream in = fs.open(p)) {
            bytes = readAtMost(in, decoder.maxBytes());
          }
        }
        if (bytes == null) { // grew past the limit after its size was looked at
          return reject(uri, split, label, RejectReason.TOO_LARGE.name(),
              "more than shard.max-image-bytes " + decoder.maxBytes() + " bytes");
        }
      } catch (FileNotFoundException | java.nio.file.NoSuchFileException e) {
        return reject(uri, split, label, RejectReason.NOT_FOUND.name(), "gone before it was read: " + e.getMessage());
      } catch (java.nio.file.AccessDeniedException e) {
        return reject(uri, split, label, RejectReason.UNREADABLE.name(), "permission denied: " + e.getMessage());
      } catch (IOException | IllegalArgumentException e) {
        return reject(uri, split, label, RejectReason.UNREADABLE.name(), e.getClass().getSimpleName() + ": " + e.getMessage());
      }
      try {
        if (modelReady == null) {
          FastImageDecoder.Decoded d = fast.decode(bytes, 1, 1);
          return RowFactory.create(uri, split, label, ContentHash.of(bytes), bytes, d.fullWidth(), d.fullHeight(),
              d.image().format(), null, null);
        }
        // The id stays the hash of the original bytes: duplicates are found by what was crawled.
        ModelReadyEncoder.Stored s = modelReady.store(bytes, fast.decodeForLongSide(bytes, modelReady.maxSide()));
        return RowFactory.create(uri, split, label, ContentHash.of(bytes), s.bytes(), s.width(), s.height(), s.format(),
            null, null);
      } catch (ImageRejectedException e) {
        return reject(uri, split, label, e.reason().name(), e.getMessage());
      } catch (RuntimeException e) {
        // A decoder bug on one odd file must not kill the job: record it.
        return reject(uri, split, label, RejectReason.CORRUPT.name(), e.getClass().getSimpleName() + ": " + e.getMessage());
      }
    }

    /** All bytes of {@code in}, or null if there are more than {@code max}: never more in memory. */
    static byte[] readAtMost(InputStream in, long max) throws IOException {
      byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
      return bytes.length > max ? null : bytes;
    }

    private static Row reject(String uri, String split, String label, String reason, String detail) {
      return RowFactory.create(uri, split, label, null, null, null, null, null, reason, detail);
    }
  }
}
