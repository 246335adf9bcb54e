package io.semisup.jobs.spark;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
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

  /** Columns of {@link #list}: uri, length (-1 when unknown), label_name (null if unlabelled). */
  public Dataset<Row> list(SparkSession spark) {
    if (isListing) {
      Dataset<Row> lines =
          spark.read().text(location).select(functions.trim(functions.col("value")).as("uri"));
      return lines
          .filter(functions.length(functions.col("uri")).gt(0))
          .filter(functions.not(functions.col("uri").startsWith("#")))
          .withColumn("length", functions.lit(-1L))
          .withColumn("label_name", functions.lit(null).cast("string"));
    }
    Dataset<Row> files =
        spark.read()
            .format("binaryFile")
            .option("recursiveFileLookup", "true")
            .load(location)
            .select(functions.col("path").as("uri"), functions.col("length"));
    if (!labelled) {
      return files.withColumn("label_name", functions.lit(null).cast("string"));
    }
    // ImageNet layout: the class is the name of the file's parent folder.
    return files.withColumn(
        "label_name", functions.element_at(functions.split(functions.col("uri"), "/"), -2));
  }

  /** Class names of an ImageNet-layout directory: its sub-folders, sorted (index = label). */
  public static List<String> classNames(FileSystem fs, Path dir) {
    List<String> names = new ArrayList<>();
    try {
      if (!fs.exists(dir)) {
        throw new IllegalArgumentException(
            "Cannot list classes of " + dir + ": it does not exist. Set data.train-dir to a folder with one sub-folder per class.");
      }
      for (FileStatus st : fs.listStatus(dir)) {
        String n = st.getPath().getName();
        if (st.isDirectory() && !n.startsWith(".") && !n.startsWith("_")) {
          names.add(n);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("Cannot list " + dir + ": " + e.getMessage(), e);
    }
    if (names.isEmpty()) {
      throw new IllegalArgumentException(
          "Cannot find classes in " + dir + ": no sub-folders. Labelled data must be in ImageNet layout <dir>/<class>/<image>.");
    }
    names.sort(String::compareTo);
    return names;
  }
}
