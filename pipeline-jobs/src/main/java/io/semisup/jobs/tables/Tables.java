package io.semisup.jobs.tables;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Every Parquet table the pipeline writes, in one place, so stages, tests and notebooks agree on
 * column names and types. Column names are snake_case for notebooks and SQL.
 */
public final class Tables {

  /** Bumped when a schema changes incompatibly; written into every manifest. */
  public static final int SCHEMA_VERSION = 1;

  /** Split names of the {@link #IMAGES} table. */
  public static final String TRAIN = "train";

  public static final String VAL = "val";
  public static final String UNLABELLED = "unlabelled";

  /**
   * Image bytes, one row per distinct image per split (written by shard). {@code label} and
   * {@code label_name} are null for unlabelled images.
   */
  public static final StructType IMAGES =
      new StructType()
          .add("image_id", DataTypes.StringType, false)
          .add("uri", DataTypes.StringType, false)
          .add("bytes", DataTypes.BinaryType, false)
          .add("width", DataTypes.IntegerType, false)
          .add("height", DataTypes.IntegerType, false)
          .add("format", DataTypes.StringType, false)
          .add("split", DataTypes.StringType, false)
          .add("label", DataTypes.IntegerType, true)
          .add("label_name", DataTypes.StringType, true);

  /** Inputs a stage could not use, with the reason; counts of every stage add up with it. */
  public static final StructType REJECTS =
      new StructType()
          .add("uri", DataTypes.StringType, false)
          .add("split", DataTypes.StringType, true)
          .add("reason", DataTypes.StringType, false)
          .add("detail", DataTypes.StringType, true)
          .add("stage", DataTypes.StringType, false);

  /**
   * Every copy shard dropped for having the bytes of another image, with the copy it kept:
   * reason DUPLICATE (same split), SAME_AS_EVAL (a training copy of an evaluation image, also in
   * rejects) or SAME_AS_LABELLED (an unlabelled copy of a labelled image).
   */
  public static final StructType DUPLICATES =
      new StructType()
          .add("uri", DataTypes.StringType, false)
          .add("split", DataTypes.StringType, false)
          .add("image_id", DataTypes.StringType, false)
          .add("kept_uri", DataTypes.StringType, false)
          .add("kept_split", DataTypes.StringType, false)
          .add("reason", DataTypes.StringType, false);

  /** The teacher's top-P classes per unlabelled image, highest probability first. */
  public static final StructType SCORES =
      new StructType()
          .add("image_id", DataTypes.StringType, false)
          .add("uri", DataTypes.StringType, false)
          .add("classes", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
          .add("probs", DataTypes.createArrayType(DataTypes.FloatType, false), false)
          .add("teacher_id", DataTypes.StringType, false);

  /** The selected pseudo-labelled set: K per class, rank 1 = most confident. */
  public static final StructType PSEUDO_LABELS =
      new StructType()
          .add("class", DataTypes.IntegerType, false)
          .add("class_name", DataTypes.StringType, false)
          .add("rank", DataTypes.IntegerType, false)
          .add("image_id", DataTypes.StringType, false)
          .add("score", DataTypes.FloatType, false)
          .add("uri", DataTypes.StringType, false);

  /** Per-class selection summary: candidates seen, selected, the threshold used, short of K. */
  public static final StructType CLASS_COUNTS =
      new StructType()
          .add("class", DataTypes.IntegerType, false)
          .add("class_name", DataTypes.StringType, false)
          .add("candidates", DataTypes.LongType, false)
          .add("selected", DataTypes.LongType, false)
          .add("threshold", DataTypes.FloatType, false)
          .add("short_of_k", DataTypes.BooleanType, false);

  /** Per-class precision of the pseudo-labels against hidden true labels (evaluate). */
  public static final StructType PRECISION =
      new StructType()
          .add("class", DataTypes.IntegerType, false)
          .add("class_name", DataTypes.StringType, false)
          .add("selected", DataTypes.LongType, false)
          .add("correct", DataTypes.LongType, false)
          .add("precision", DataTypes.DoubleType, true);

  private Tables() {}
}
