package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.jobs.spark.ScoringModel;
import io.semisup.jobs.tables.Tables;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores of an earlier run that this run's {@code score} stage takes instead of running the
 * teacher again ({@code score.reuse-run}): a scheduled run over a pool that grew scores only the
 * images the earlier run has not scored. Reuse is content-addressed: rows are matched by
 * {@code image_id} (SHA-256 of the image bytes), so a renamed, moved or re-sharded image is still
 * found, and it happens only when the earlier run's scores were made by the same teacher bytes
 * with the same engine and top-P ({@link #fingerprint}, recorded in its manifest); otherwise
 * every image is scored, with one log line saying why.
 */
final class ScoreReuse {
  private static final Logger LOG = LoggerFactory.getLogger(ScoreReuse.class);

  /** Manifest detail of the score stage holding {@link #fingerprint}. */
  static final String FINGERPRINT = "scoring_fingerprint";

  private final RunContext ctx;
  private final Path dir;
  private final String runId;
  private final String manifestHash;

  private ScoreReuse(RunContext ctx, Path dir, String runId, String manifestHash) {
    this.ctx = ctx;
    this.dir = dir;
    this.runId = runId;
    this.manifestHash = manifestHash;
  }

  /**
   * The committed score stage of {@code score.reuse-run} when its scores can stand for this run's
   * teacher's (same {@code fingerprint}); empty when the setting is empty, the run has no
   * committed scores, or they were made otherwise.
   */
  static Optional<ScoreReuse> find(RunContext ctx, String fingerprint) {
    return find(ctx, List.of(fingerprint));
  }

  /**
   * As {@link #find(RunContext, String)}, accepting any of {@code fingerprints} (a run without
   * embeddings can reuse the scores of one that wrote them too).
   */
  static Optional<ScoreReuse> find(RunContext ctx, List<String> fingerprints) {
    String other = ctx.settings().score().reuseRun();
    if (other.isEmpty() || other.equals(ctx.runId())) {
      return Optional.empty();
    }
    Path dir = new Path(new Path(ctx.runDir().getParent(), other), ScoreStage.NAME);
    try {
      if (!ctx.fs().exists(new Path(dir, Stage.SUCCESS))) {
        LOG.warn("[score] score.reuse-run: run {} has no committed scores at {}; scoring every image", other, dir);
        return Optional.empty();
      }
      JsonNode manifest;
      try (InputStream in = ctx.fs().open(new Path(dir, Stage.MANIFEST))) {
        manifest = RunContext.json().readTree(in);
      }
      String recorded = manifest.path("details").path(FINGERPRINT).asText("");
      if (!fingerprints.contains(recorded)) {
        LOG.info("[score] score.reuse-run: run {} scored with another teacher or other scoring settings;"
            + " scoring every image", other);
        return Optional.empty();
      }
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read the scores of run " + other + " at " + dir
          + " (score.reuse-run): " + e.getMessage(), e);
    }
    return Optional.of(new ScoreReuse(ctx, dir, other, ctx.manifestHash(dir)));
  }

  /** What decides a score row: the teacher's bytes, the engine, top-P and the precision. */
  static String fingerprint(ScoringModel model, int topP) {
    return fingerprint(model, topP, false);
  }

  /**
   * As {@link #fingerprint(ScoringModel, int)}, and whether the run wrote embeddings: a run with
   * {@code score.embeddings} reuses only a run that has them (and takes them too).
   */
  static String fingerprint(ScoringModel model, int topP, boolean embeddings) {
    String s = model.digest() + "\n" + model.backend() + "\n" + model.engine().cuda() + "\n" + topP
        + (embeddings ? "\nembeddings" : "");
    if (ScorePrecision.of(model).equals("int8")) {
      s += "\nint8"; // FP32 fingerprints stay those earlier runs recorded
    }
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  String runId() {
    return runId;
  }

  /** The earlier commit's manifest hash: progress made against another commit is not mixed in. */
  String manifestHash() {
    return manifestHash;
  }

  /** The images of {@code images} (with an {@code image_id} column) the earlier run has not scored. */
  Dataset<Row> unscored(Dataset<Row> images) {
    Dataset<Row> ids = Tables.SCORES.readFrom(ctx.spark(), dir).select(col("image_id").as("reused_id"));
    return images.join(ids, images.col("image_id").equalTo(ids.col("reused_id")), "left_anti");
  }

  /** The earlier run's embeddings of this run's unlabelled images. */
  Dataset<Row> embeddingsFor(Dataset<Row> images) {
    Dataset<Row> old = Tables.SCORE_EMBEDDINGS.readFrom(ctx.spark(), dir);
    return images.select("image_id").join(old, "image_id").select("image_id", "embedding");
  }

  /**
   * The earlier run's score rows of this run's unlabelled images, with this run's uri and
   * teacher id: the rows of the scores table this run does not compute.
   */
  Dataset<Row> rowsFor(Dataset<Row> images, String teacherId) {
    Dataset<Row> old = Tables.SCORES.readFrom(ctx.spark(), dir).select("image_id", "classes", "probs");
    return images.select("image_id", "uri").join(old, "image_id")
        .select(col("image_id"), col("uri"), col("classes"), col("probs"),
            functions.lit(teacherId).as("teacher_id"));
  }
}
