package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigRenderOptions;
import io.semisup.jobs.tables.Tables;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decoded images of an earlier run that this run's {@code shard} stage takes instead of reading
 * and decoding the files again ({@code shard.reuse-run}): a scheduled run over a pool that grew
 * reads only the new files. A listed file is taken from the earlier run's {@code images} table
 * when its uri, split and size equal a row's there (files of an image pool are not rewritten in
 * place with the same size; a listing of URIs has no sizes, so its files are always read), and
 * only when the earlier run decoded with the same limits ({@link #VERDICT_KEYS}). Dedupe, the
 * checks between splits and the counts then run over all images as in a fresh run, so the
 * committed tables are those a fresh run would write.
 */
final class ShardReuse {
  private static final Logger LOG = LoggerFactory.getLogger(ShardReuse.class);

  /** The settings that decide whether a file is kept or rejected when decoded, and what is stored. */
  static final List<String> VERDICT_KEYS =
      List.of("shard.max-image-bytes", "shard.max-image-pixels", "shard.max-decode-millis",
          "shard.decoder", "shard.max-side", "shard.stored-quality");

  private final RunContext ctx;
  private final Path dir;
  private final String runId;

  private ShardReuse(RunContext ctx, Path dir, String runId) {
    this.ctx = ctx;
    this.dir = dir;
    this.runId = runId;
  }

  /** The committed shard stage of {@code shard.reuse-run} when its verdicts hold for this run. */
  static Optional<ShardReuse> find(RunContext ctx) {
    String other = ctx.settings().shard().reuseRun();
    if (other.isEmpty() || other.equals(ctx.runId())) {
      return Optional.empty();
    }
    Path dir = new Path(new Path(ctx.runDir().getParent(), other), ShardStage.NAME);
    try {
      if (!ctx.fs().exists(new Path(dir, Stage.SUCCESS))) {
        LOG.warn("[shard] shard.reuse-run: run {} has no committed shard at {}; reading every file", other, dir);
        return Optional.empty();
      }
      JsonNode settings;
      try (InputStream in = ctx.fs().open(new Path(dir, Stage.MANIFEST))) {
        settings = RunContext.json().readTree(in).path(Stage.SETTINGS);
      }
      for (String key : VERDICT_KEYS) {
        String now = ctx.config().raw().getValue(key).render(ConfigRenderOptions.concise());
        if (!now.equals(settings.path(key).asText())) {
          LOG.info("[shard] shard.reuse-run: run {} decoded with another {}; reading every file", other, key);
          return Optional.empty();
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read the shard of run " + other + " at " + dir
          + " (shard.reuse-run): " + e.getMessage(), e);
    }
    return Optional.of(new ShardReuse(ctx, dir, other));
  }

  String runId() {
    return runId;
  }

  private Dataset<Row> previous() {
    return Tables.IMAGES.readFrom(ctx.spark(), dir)
        .select(col("uri").as("prev_uri"), col("split").as("prev_split"), col("image_id").as("prev_image_id"),
            col("bytes").as("prev_bytes"), col("width").as("prev_width"), col("height").as("prev_height"),
            col("format").as("prev_format"));
  }

  private static Column sameFile(Dataset<Row> listed, Dataset<Row> prev) {
    return listed.col("uri").equalTo(prev.col("prev_uri"))
        .and(listed.col("split").equalTo(prev.col("prev_split")))
        .and(listed.col("length").geq(0))
        .and(listed.col("length").equalTo(functions.length(prev.col("prev_bytes")).cast("long")));
  }

  /** The listed files the earlier run has not decoded (same columns as {@code listed}). */
  Dataset<Row> unread(Dataset<Row> listed) {
    Dataset<Row> prev = previous();
    return listed.join(prev, sameFile(listed, prev), "left_anti");
  }

  /** The earlier run's decoded rows of the other listed files, as {@link ShardStage#DECODED} rows. */
  Dataset<Row> decoded(Dataset<Row> listed) {
    Dataset<Row> prev = previous();
    return listed.filter(col("reason").isNull()).join(prev, sameFile(listed, prev))
        .select(col("uri"), col("split"), col("label_name"), col("prev_image_id").as("image_id"),
            col("prev_bytes").as("bytes"), col("prev_width").as("width"), col("prev_height").as("height"),
            col("prev_format").as("format"), functions.lit(null).cast("string").as("reason"),
            functions.lit(null).cast("string").as("detail"));
  }
}
