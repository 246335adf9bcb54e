package io.semisup.jobs.spark;

import io.semisup.core.UsageError;
import io.semisup.core.image.RejectReason;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * Where a split's images come from: a directory tree (ImageNet layout when labelled) or a listing
 * file of URIs, one per line. Lists paths and sizes only; bytes are read later, in tasks, so a
 * huge file is refused by size without ever being loaded.
 */
public record ImageSource(String split, String location, boolean isListing, boolean labelled)
    implements Serializable {

  /**
   * Columns of {@link #list}: uri, length (-1 when unknown), label_name (null if unlabelled), and
   * for an entry that cannot be read at all (an unreadable folder, a symlink loop, a FIFO) the
   * reject reason and detail, so it is counted and reported like any other reject.
   */
  public Dataset<Row> list(SparkSession spark) {
    if (isListing) {
      // Read as a distributed text file: the URIs never pass through the driver. Spark splits a
      // text file by bytes (128 MB), so a listing of 10^6 short lines would be one task that
      // reads and decodes every image alone; the lines are counted (one cheap pass) and spread
      // round-robin over enough tasks for every core.
      Dataset<Row> uris =
          spark.read().text(location)
              .select(functions.trim(functions.col("value")).as("uri"))
              .filter(functions.length(functions.col("uri")).gt(0))
              .filter(functions.not(functions.col("uri").startsWith("#")));
      long lines = uris.count();
      return uris.repartition(listingTasks(lines, spark.sparkContext().defaultParallelism()))
          .withColumn("length", functions.lit(-1L))
          .withColumn("label_name", functions.lit(null).cast("string"))
          .withColumn("reason", functions.lit(null).cast("string"))
          .withColumn("detail", functions.lit(null).cast("string"));
    }
    // Listed with Hadoop's recursive listing, not Spark's binaryFile source: the latter silently
    // drops empty files, and every input must end up kept, duplicate or rejected.
    List<Row> rows = new ArrayList<>();
    Path dir = new Path(location);
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(dir)) {
        throw new UsageError(
            "Cannot read split " + split + " from " + dir + ": it does not exist. Fix " + key() + ".");
      }
      if ("file".equals(fs.getScheme())) {
        java.nio.file.Path root = java.nio.file.Paths.get(fs.makeQualified(dir).toUri());
        LocalListing.collect(root, labelled, rows);
      } else {
        collect(fs, dir, labelled, rows);
      }
    } catch (IOException e) {
      throw new UsageError("Cannot list split " + split + " from " + dir + ": " + e
          + ". Check that the folder is readable, or fix the data.*-dir setting.", e);
    }
    int slices = Math.max(1, Math.min(1000, rows.size() / 2000));
    return spark.createDataFrame(
        org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, slices),
        LISTED);
  }

  /**
   * Depth-first listing with plain {@code listStatus}: Hadoop's {@code listFiles} builds
   * LocatedFileStatus objects, which on the local file system fork {@code ls} per file for
   * permissions (measured: minutes for 70k files instead of a second).
   */
  private static void collect(FileSystem fs, Path dir, boolean labelled, List<Row> rows) throws IOException {
    FileStatus[] children = fs.listStatus(dir);
    java.util.Arrays.sort(children);
    for (FileStatus st : children) {
      String name = st.getPath().getName();
      if (name.startsWith(".") || name.startsWith("_")) {
        continue; // hidden files and folders (".DS_Store", "_SUCCESS") are not inputs, as in Hadoop
      }
      if (st.isDirectory()) {
        try {
          collect(fs, st.getPath(), labelled, rows);
        } catch (IOException e) {
          // One folder the job may not read (HDFS AccessControlException) is a reject, not a failed job.
          rows.add(unreadable(st.getPath().toString(), labelled ? dir.getName() : null,
              "cannot list folder: " + e.getClass().getSimpleName() + ": " + e.getMessage()));
        }
      } else {
        String label = labelled ? st.getPath().getParent().getName() : null;
        rows.add(RowFactory.create(st.getPath().toString(), st.getLen(), label, null, null));
      }
    }
  }

  /** A listing row for an entry that cannot be read, rejected as UNREADABLE. */
  private static Row unreadable(String uri, String label, String detail) {
    return RowFactory.create(uri, -1L, label, RejectReason.UNREADABLE.name(), detail);
  }

  /** URIs one read-and-decode task handles, about: small enough to spread, large enough to amortize. */
  public static final int URIS_PER_TASK = 5_000;

  /** At most this many tasks for one listing (10^9 URIs: 200k tasks of 5k images). */
  static final int MAX_LISTING_TASKS = 200_000;

  /** Tasks for a listing of {@code lines} URIs: at least one per core, about {@link #URIS_PER_TASK} each. */
  public static int listingTasks(long lines, int cores) {
    long byCount = (lines + URIS_PER_TASK - 1) / URIS_PER_TASK;
    return (int) Math.max(1, Math.min(MAX_LISTING_TASKS, Math.max(Math.min(lines, cores), byCount)));
  }

  /** Schema of {@link #list}. */
  public static final StructType LISTED =
      new StructType()
          .add("uri", DataTypes.StringType, false)
          .add("length", DataTypes.LongType, false)
          .add("label_name", DataTypes.StringType, true)
          .add("reason", DataTypes.StringType, true)
          .add("detail", DataTypes.StringType, true);



  /** The setting that names this source, for messages. */
  String key() {
    return switch (split) {
      case "train" -> "data.train-dir (run: --labelled)";
      case "val" -> "data.val-dir (run: --test)";
      case "validation" -> "data.validation-dir (run: --validation)";
      default -> isListing ? "data.unlabelled-listing (run: --unlabelled-listing)" : "data.unlabelled-dir (run: --unlabelled)";
    };
  }

  /** Class names of an ImageNet-layout directory: its sub-folders, sorted (index = label). */
  public static List<String> classNames(FileSystem fs, Path dir) {
    List<String> names = new ArrayList<>();
    try {
      if (!fs.exists(dir)) {
        throw new UsageError(
            "Cannot list classes of " + dir + ": it does not exist. Set data.train-dir to a folder with one sub-folder per class.");
      }
      for (FileStatus st : fs.listStatus(dir)) {
        String n = st.getPath().getName();
        if (st.isDirectory() && !n.startsWith(".") && !n.startsWith("_")) {
          names.add(n);
        }
      }
    } catch (IOException e) {
      throw new UsageError("Cannot list classes of " + dir + ": " + e
          + ". Check that the folder is readable, or fix data.train-dir.", e);
    }
    if (names.isEmpty()) {
      throw new UsageError(
          "Cannot find classes in " + dir + ": no sub-folders. Labelled data must be in ImageNet layout <dir>/<class>/<image>.");
    }
    names.sort(String::compareTo);
    return names;
  }
}
