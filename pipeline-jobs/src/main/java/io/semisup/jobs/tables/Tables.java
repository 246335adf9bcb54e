package io.semisup.jobs.tables;

import io.semisup.jobs.stages.AuditStage;
import io.semisup.jobs.stages.DedupStage;
import io.semisup.jobs.stages.EvaluateStage;
import io.semisup.jobs.stages.ScoreStage;
import io.semisup.jobs.stages.SelectStage;
import io.semisup.jobs.stages.ShardStage;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Every Parquet table the pipeline writes, in one place, as {@link Table} handles (producing
 * stage, name, schema), so stages, tests and notebooks agree on column names and types. Each
 * stage lists the handles it reads and writes ({@code Stage.inputs()}, {@code Stage.outputs()});
 * a test holds every handle's schema to what its stage writes. Column names are snake_case for
 * notebooks and SQL.
 */
public final class Tables {

  /** Bumped when a schema changes incompatibly; written into every manifest. */
  public static final int SCHEMA_VERSION = 1;

  /** Split names of the {@link #IMAGES} table. */
  public static final String TRAIN = "train";

  /** The test split: results are reported on it, nothing is chosen on it. */
  public static final String VAL = "val";
  /** The validation split, carved from training data: the only labels that choose settings. */
  public static final String VALIDATION = "validation";
  public static final String UNLABELLED = "unlabelled";

  /**
   * Image bytes, one row per distinct image per split, partitioned by split ({@code
   * images/split=<split>/}, so the split is the last column read back). {@code label} and
   * {@code label_name} are null for unlabelled images.
   */
  public static final Table IMAGES =
      Table.partitioned(ShardStage.NAME, "images",
          new StructType()
              .add("image_id", DataTypes.StringType, false)
              .add("uri", DataTypes.StringType, false)
              .add("bytes", DataTypes.BinaryType, false)
              .add("width", DataTypes.IntegerType, false)
              .add("height", DataTypes.IntegerType, false)
              .add("format", DataTypes.StringType, false)
              .add("label", DataTypes.IntegerType, true)
              .add("label_name", DataTypes.StringType, true)
              .add("split", DataTypes.StringType, false),
          "split",
          "Image bytes, one row per distinct image per split; label null for unlabelled images. With"
              + " shard.max-side the bytes of larger images are a JPEG re-encoded at that longest side and"
              + " width/height are its size; image_id is always the hash of the original bytes.");

  /** Inputs a stage could not use, with the reason; counts of every stage add up with it. */
  private static final StructType REJECTED =
      new StructType()
          .add("uri", DataTypes.StringType, false)
          .add("split", DataTypes.StringType, true)
          .add("reason", DataTypes.StringType, false)
          .add("detail", DataTypes.StringType, true)
          .add("stage", DataTypes.StringType, false);

  /** Files shard could not read or decode, or whose folder is not a training class. */
  public static final Table SHARD_REJECTS =
      Table.of(ShardStage.NAME, "rejects", REJECTED,
          "Input files shard could not use (unreadable, not an image, too large, unknown class), with the reason.");

  /**
   * Every copy shard dropped for having the bytes of another image, with the copy it kept:
   * reason DUPLICATE (same split), SAME_AS_EVAL (a training copy of an evaluation image, also in
   * rejects) or SAME_AS_LABELLED (an unlabelled copy of a labelled image).
   */
  public static final Table DUPLICATES =
      Table.of(ShardStage.NAME, "duplicates", new StructType()
          .add("uri", DataTypes.StringType, false)
          .add("split", DataTypes.StringType, false)
          .add("image_id", DataTypes.StringType, false)
          .add("kept_uri", DataTypes.StringType, false)
          .add("kept_split", DataTypes.StringType, false)
          .add("reason", DataTypes.StringType, false),
          "Every copy shard dropped for having the bytes of another image, with the copy it kept.");

  /** The teacher's top-P classes per unlabelled image, highest probability first. */
  public static final Table SCORES =
      Table.of(ScoreStage.NAME, "scores",
          new StructType()
              .add("image_id", DataTypes.StringType, false)
              .add("uri", DataTypes.StringType, false)
              .add("classes", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
              .add("probs", DataTypes.createArrayType(DataTypes.FloatType, false), false)
              .add("teacher_id", DataTypes.StringType, false),
          "The teacher's top-P classes and probabilities per unlabelled image, highest first.");

  /** Unlabelled images the teacher could not score (the bytes did not decode). */
  public static final Table SCORE_REJECTS =
      Table.of(ScoreStage.NAME, "rejects", REJECTED,
          "Unlabelled images score could not decode, with the reason.");

  /**
   * The teacher's embedding of each scored unlabelled image ({@code score.embeddings}; empty when
   * off): its own table, not a column of {@link #SCORES}, because select reads every score row and
   * only dedup reads the embeddings (32 to 2,048 floats an image against top-P's few pairs).
   */
  public static final Table SCORE_EMBEDDINGS =
      Table.of(ScoreStage.NAME, "embeddings",
          new StructType()
              .add("image_id", DataTypes.StringType, false)
              .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false),
          "The teacher's L2-normalised pooled features per scored unlabelled image (score.embeddings; empty when off).");

  /** The selected pseudo-labelled set: K per class, rank 1 = most confident. */
  public static final Table PSEUDO_LABELS =
      Table.of(SelectStage.NAME, "pseudo_labels",
          new StructType()
              .add("class", DataTypes.IntegerType, false)
              .add("class_name", DataTypes.StringType, false)
              .add("rank", DataTypes.IntegerType, false)
              .add("image_id", DataTypes.StringType, false)
              .add("score", DataTypes.FloatType, false)
              .add("uri", DataTypes.StringType, false),
          "The selected pseudo-labels: up to K images per class, rank 1 = most confident.");

  /** Per-class selection summary: candidates seen, selected, the threshold used, short of K. */
  public static final Table CLASS_COUNTS =
      Table.of(SelectStage.NAME, "class_counts",
          new StructType()
              .add("class", DataTypes.IntegerType, false)
              .add("class_name", DataTypes.StringType, false)
              .add("candidates", DataTypes.LongType, false)
              .add("selected", DataTypes.LongType, false)
              .add("threshold", DataTypes.FloatType, false)
              .add("short_of_k", DataTypes.BooleanType, false),
          "Per class: candidates seen, selected, the score threshold used, whether short of K.");

  /**
   * Per-class precision of the pseudo-labels against hidden true labels; written by evaluate
   * only when a hidden-labels file exists.
   */
  public static final Table PRECISION =
      Table.of(EvaluateStage.NAME, "precision",
          new StructType()
              .add("class", DataTypes.IntegerType, false)
              .add("class_name", DataTypes.StringType, false)
              .add("selected", DataTypes.LongType, false)
              .add("correct", DataTypes.LongType, false)
              .add("precision", DataTypes.DoubleType, true),
          "Per class: pseudo-labels with a hidden true label, how many are right, precision.");

  /**
   * The audit's per-image membership scores: which set the image is in ({@code suspect}, {@code
   * reference}, or {@code head-train}, the reference half a linear head was fitted on) and the
   * audited model's loss on its true label.
   */
  public static final Table AUDIT_SCORES =
      Table.of(AuditStage.NAME, "scores",
          new StructType()
              .add("image_id", DataTypes.StringType, false)
              .add("uri", DataTypes.StringType, false)
              .add("set", DataTypes.StringType, false)
              .add("label", DataTypes.IntegerType, false)
              .add("loss", DataTypes.DoubleType, false),
          "Per image of the audit: suspect, reference or head-train, and the audited model's loss on the true label.");

  /**
   * Pairs dedup found: an unlabelled image and its best labelled/evaluation match (verdict leak,
   * or borderline below the threshold) or a smaller-id pool image it duplicates (near_duplicate).
   */
  public static final Table DEDUP_PAIRS =
      Table.of(DedupStage.NAME, "pairs",
          new StructType()
              .add("image_id", DataTypes.StringType, false)
              .add("matched_id", DataTypes.StringType, false)
              .add("matched_split", DataTypes.StringType, false)
              .add("similarity", DataTypes.FloatType, false)
              .add("verdict", DataTypes.StringType, false)
              .add("verification", DataTypes.StringType, true)
              .add("inliers", DataTypes.IntegerType, true),
          "Unlabelled image, its matched image and split, cosine similarity, verdict (leak, near_duplicate, borderline),"
              + " and for pairs verified geometrically (dedup.verify) the verification (match, no_match) and homography inliers.");

  /** Unlabelled images select leaves out: copies of labelled/evaluation images and pool duplicates. */
  public static final Table DEDUP_REMOVED =
      Table.of(DedupStage.NAME, "removed",
          new StructType()
              .add("image_id", DataTypes.StringType, false)
              .add("reason", DataTypes.StringType, false),
          "Unlabelled images select leaves out, with the reason (leak or near_duplicate).");

  /** Every table, in pipeline order. */
  public static final List<Table> ALL =
      List.of(IMAGES, SHARD_REJECTS, DUPLICATES, SCORES, SCORE_REJECTS, SCORE_EMBEDDINGS, DEDUP_PAIRS, DEDUP_REMOVED, PSEUDO_LABELS,
          CLASS_COUNTS, PRECISION, AUDIT_SCORES);

  private Tables() {}
}
