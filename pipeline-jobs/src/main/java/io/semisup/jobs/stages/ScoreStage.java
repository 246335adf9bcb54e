package io.semisup.jobs.stages;

import static org.apache.spark.sql.functions.col;

import io.semisup.core.UsageError;
import io.semisup.core.model.Architectures;
import io.semisup.core.scoring.OnnxExporter;
import io.semisup.jobs.cli.SemisupCli;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.progress.ProgressReporter;
import io.semisup.jobs.spark.ScorePartition;
import io.semisup.jobs.spark.ScoringModel;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Runs the teacher over every unlabelled image and keeps only its top-P (class, probability)
 * pairs: the one pass over the big collection, so it writes as little as the selection needs.
 *
 * <p>Resumable: shards are scored in groups ({@code score.shards-per-commit}), each committed on
 * its own under the run's {@code _resume/} directory ({@link ScoreProgress}); a rerun after a
 * crash scores only the shards no group has committed, then publishes all groups' files as one
 * stage commit. Each shard file is read as its own Spark partition(s), so an image lands in the
 * same batch whichever group scores it, and a resumed run writes exactly the rows an
 * uninterrupted one would.
 *
 * <p>A pool that grew ({@code score.reuse-run}, {@link ScoreReuse}): an earlier run's rows stand
 * for the images it scored with the same teacher bytes, engine and top-P; the teacher runs on the
 * other images only, and the stage commits all rows, as a fresh run would.
 *
 * <p>With {@code score.embeddings}, the same forward pass also yields each image's embedding (the
 * teacher's pooled features, {@code OnnxExporter.EMBEDDING}), written L2-normalised to
 * {@code score/embeddings}; the manifest records it ({@value #EMBEDDINGS}, and the model's digest
 * as {@value #EMBEDDING_MODEL}) so that dedup reads them only when they come from its teacher.
 *
 * <p>The teacher is the run's {@code teacher} stage model or, with {@code score.teacher-onnx}
 * and {@code score.teacher-metadata}, an ONNX model the user brings ({@link OnnxTeacher}).
 */
public final class ScoreStage extends Stage {

  public static final String NAME = "score";

  /** The columns of the images table that scoring reads. */
  private static final StructType SCORED_COLUMNS =
      Tables.IMAGES.columns("image_id", "uri", "bytes", "label");

  /** Manifest detail: whether {@code score/embeddings} holds the pool's embeddings. */
  public static final String EMBEDDINGS = "embeddings";

  /** Manifest detail: the SHA-256 of the model bytes that made the embeddings. */
  public static final String EMBEDDING_MODEL = "embedding_model";

  /** The shard name a group of reused rows covers in the resumable progress. */
  static final String REUSED = "_reused";

  /** One input file of the unlabelled split; {@code name} is relative to the split directory. */
  record Shard(int index, String name, Path path, long length) {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Teacher over the unlabelled shards: top-P classes and probabilities per image.";
  }

  @Override
  public List<String> dependsOn() {
    return List.of(ShardStage.NAME, TeacherStage.NAME);
  }

  @Override
  public List<Table> inputs() {
    return List.of(Tables.IMAGES);
  }

  @Override
  public List<Table> outputs() {
    return List.of(Tables.SCORES, Tables.SCORE_REJECTS, Tables.SCORE_EMBEDDINGS);
  }

  @Override
  protected List<String> requires(RunContext ctx) {
    return OnnxTeacher.configured(ctx) ? List.of(ShardStage.NAME) : dependsOn();
  }

  @Override
  protected boolean reportsOwnProgress() {
    return true;
  }

  @Override
  protected List<String> configKeys() {
    return List.of("score");
  }

  public static void main(String[] args) {
    SemisupCli.runStage(NAME, args);
  }

  @Override
  protected void run(RunContext ctx, Path out, StageReport report) throws Exception {
    SemisupConfig c = ctx.config();
    Scoring.Teacher teacher = OnnxTeacher.configured(ctx)
        ? OnnxTeacher.load(ctx)
        : new Scoring.Teacher(Models.load(ctx, TeacherStage.NAME).metadata().modelId(),
            Scoring.model(ctx, TeacherStage.NAME));
    ScorePartition.Settings settings = settings(c);
    boolean embeddings = c.settings().score().embeddings();
    if (embeddings && !teacher.model().hasEmbeddingOutput()) {
      throw new UsageError("score.embeddings is on but teacher "
          + teacher.model().modelId() + " has no embedding output (an ONNX output named '"
          + OnnxExporter.EMBEDDING + "', or a DL4J layer '"
          + Architectures.POOL + "'). Set score.embeddings=false");
    }
    List<Shard> shards = unlabelledShards(ctx);
    ScoringModel fp32 = teacher.model();
    teacher = ScorePrecision.teacher(ctx, teacher, shards, OnnxTeacher.configured(ctx));
    String scoring = ScoreReuse.fingerprint(teacher.model(), settings.topP(), embeddings);
    // Scores made with embeddings stand for scores without them, not the other way round.
    Optional<ScoreReuse> reuse = ScoreReuse.find(ctx, embeddings ? List.of(scoring)
        : List.of(scoring, ScoreReuse.fingerprint(teacher.model(), settings.topP(), true)));
    ScoreProgress progress = ScoreProgress.open(ctx,
        fingerprint(teacher.model(), settings, shards, reuse.map(ScoreReuse::manifestHash).orElse(""))
            + (embeddings ? "-e" : ""),
        c.settings().run().force());
    Set<String> done = progress.doneShards();
    long reused = reuse.isPresent()
        ? takeReused(ctx, reuse.get(), teacher.id(), progress, done, embeddings) : 0;
    List<Shard> pending = new ArrayList<>();
    for (Shard s : shards) {
      if (!done.contains(s.name())) {
        pending.add(s);
      }
    }
    if (!done.isEmpty()) {
      log.info("[score] resuming: {} of {} shards already scored under {}; scoring the other {}",
          done.size(), shards.size(), progress.dir(), pending.size());
    }
    int perCommit = c.settings().score().shardsPerCommit();
    if (perCommit <= 0) {
      perCommit = Math.max(1, 2 * ctx.spark().sparkContext().defaultParallelism());
    }
    List<List<Shard>> groups = new ArrayList<>();
    for (int i = 0; i < pending.size(); i += perCommit) {
      groups.add(pending.subList(i, Math.min(pending.size(), i + perCommit)));
    }
    try (ProgressReporter shardsDone = ProgressReporter.start(NAME, "shards", pending.size(),
        c.settings().score().progressLogSeconds())) {
      scoreGroups(ctx, teacher, settings, groups, progress, c.settings().score().failShard(),
          Math.max(1, c.settings().score().commitsInFlight()), reuse.orElse(null), shardsDone,
          embeddings);
    }

    ScoreProgress.Totals t = progress.assemble(out, Tables.SCORES.name(),
        Tables.SCORE_REJECTS.name(), Tables.SCORE_EMBEDDINGS.name());
    for (Table table : outputs()) {
      if (!ScoreProgress.hasDataFiles(ctx.fs(), new Path(out, table.name()))) {
        writeEmpty(ctx, out, table);
      }
    }
    progress.delete();
    String precision = ScorePrecision.of(teacher.model());
    if (precision.equals("int8")) {
      try (var o = ctx.fs().create(new Path(out, ScorePrecision.FILE), true)) {
        o.write(teacher.model().bytes());
      }
      report.detail(ScorePrecision.INT8_SOURCE, ScorePrecision.source(fp32, ctx));
    }
    report.detail(ScorePrecision.PRECISION, precision);
    report.count("read", t.read()).count("scored", t.scored()).count("rejected", t.rejected())
        .count("shards", shards.size()).count("shards_resumed", shards.size() - pending.size())
        .count("shards_scored", pending.size())
        .count("reused", reused).count("teacher_scored", t.scored() - reused)
        .detail(ScoreReuse.FINGERPRINT, scoring)
        .detail("reused_from", reuse.map(ScoreReuse::runId).orElse(""))
        .detail("teacher_id", teacher.id()).detail("top_p", settings.topP())
        .detail("backend", teacher.model().backend()).detail("shards_per_commit", perCommit)
        .detail(EMBEDDINGS, embeddings)
        .detail(EMBEDDING_MODEL, embeddings ? teacher.model().digest() : "");
  }

  /** Scores the groups, a few at a time; on a failure, lets running groups commit, then throws. */
  private void scoreGroups(RunContext ctx, Scoring.Teacher teacher, ScorePartition.Settings settings,
      List<List<Shard>> groups, ScoreProgress progress, int failShard, int inFlight, ScoreReuse reuse,
      ProgressReporter shardsDone, boolean embeddings) throws Exception {
    if (groups.isEmpty()) {
      return;
    }
    Broadcast<ScoringModel> model = ctx.spark().sparkContext().broadcast(
        teacher.model(), scala.reflect.ClassTag$.MODULE$.apply(ScoringModel.class));
    AtomicBoolean failed = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(inFlight, groups.size()));
    List<Future<?>> futures = new ArrayList<>();
    try {
      for (List<Shard> g : groups) {
        futures.add(pool.submit(() -> {
          if (!failed.get()) {
            try {
              scoreGroup(ctx, model, teacher, settings, g, progress, failShard, reuse, embeddings);
              shardsDone.advance(g.size());
            } catch (Exception | Error e) {
              failed.set(true);
              throw e;
            }
          }
          return null;
        }));
      }
      Exception first = null;
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (ExecutionException e) {
          if (first == null) {
            first = e.getCause() instanceof Exception ex ? ex : e;
          }
        }
      }
      if (first != null) {
        log.error("[score] a group failed; shards committed so far stay under {} and a rerun"
            + " scores only the rest", progress.dir());
        throw first;
      }
    } finally {
      pool.shutdownNow();
      model.destroy();
    }
  }

  private void scoreGroup(RunContext ctx, Broadcast<ScoringModel> model, Scoring.Teacher teacher,
      ScorePartition.Settings settings, List<Shard> group, ScoreProgress progress, int failShard,
      ScoreReuse reuse, boolean embeddings) throws IOException {
    long t0 = System.nanoTime();
    String name = ScoreProgress.newGroupName();
    Path tmp = progress.tmp(name);
    // One scan per file: Spark never packs two files into one partition, so batches (and the
    // engine's floating-point results) do not depend on how shards are grouped.
    Dataset<Row> images = null;
    List<String> names = new ArrayList<>();
    boolean fail = false;
    for (Shard s : group) {
      Dataset<Row> d = shardImages(ctx, s);
      images = images == null ? d : images.union(d);
      names.add(s.name());
      fail |= s.index() == failShard;
    }
    if (reuse != null) {
      // Only what the earlier run has not scored (a shuffle join unless its ids are small).
      images = reuse.unscored(images);
    }
    String label = "shards " + group.get(0).index() + ".." + group.get(group.size() - 1).index();
    Dataset<Row> scored = images
        .mapPartitions(new ScorePartition(model, teacher.model().spec(),
            settings.withFailAfterFirstBatch(fail), label, embeddings),
            Encoders.row(embeddings ? ScorePartition.SCHEMA_WITH_EMBEDDING : ScorePartition.SCHEMA))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      writeTables(scored, teacher.id(), tmp, embeddings);
    } finally {
      scored.unpersist();
    }
    long nScored = Tables.SCORES.readFrom(ctx.spark(), tmp).count();
    long nRejected = Tables.SCORE_REJECTS.readFrom(ctx.spark(), tmp).count();
    double seconds = (System.nanoTime() - t0) / 1e9;
    progress.commit(name, tmp, names, nScored, nRejected, seconds);
    log.info("[score] committed {} ({} images, {} rejected) in {} s", label, nScored + nRejected,
        nRejected, String.format("%.1f", seconds));
  }

  /**
   * Commits the reused run's rows for this run's images as one group of the resumable progress,
   * marked by {@link #REUSED} (so a resumed run does not take them twice); returns their count.
   */
  private long takeReused(RunContext ctx, ScoreReuse reuse, String teacherId, ScoreProgress progress,
      Set<String> done, boolean embeddings) throws IOException {
    if (done.contains(REUSED)) {
      return progress.done().stream().filter(g -> g.shards().contains(REUSED))
          .mapToLong(ScoreProgress.Group::scored).sum();
    }
    Path split = Tables.IMAGES.partitionDir(ctx, Tables.UNLABELLED);
    if (!ctx.fs().exists(split)) {
      return 0;
    }
    long t0 = System.nanoTime();
    String name = ScoreProgress.newGroupName();
    Path tmp = progress.tmp(name);
    Dataset<Row> images = ctx.spark().read().schema(Tables.IMAGES.columns("image_id", "uri"))
        .parquet(split.toString());
    Tables.SCORES.write(reuse.rowsFor(images, teacherId), tmp);
    if (embeddings) {
      // The fingerprint matched with embeddings on: the earlier run wrote them too.
      Tables.SCORE_EMBEDDINGS.write(reuse.embeddingsFor(images), tmp);
    }
    long n = Tables.SCORES.readFrom(ctx.spark(), tmp).count();
    progress.commit(name, tmp, List.of(REUSED), n, 0, (System.nanoTime() - t0) / 1e9);
    log.info("[score] reused the scores of {} images from run {} (score.reuse-run)", n, reuse.runId());
    return n;
  }

  /**
   * The columns scoring reads of one shard file. With the schema given, Spark runs no job to
   * infer it (0.1-0.2 s per shard, one after another: hours of driver time per run at 10^5
   * shards).
   */
  static Dataset<Row> shardImages(RunContext ctx, Shard shard) {
    return ctx.spark().read().schema(SCORED_COLUMNS).parquet(shard.path().toString());
  }

  private static void writeTables(Dataset<Row> scored, String teacherId, Path dir,
      boolean embeddings) {
    if (embeddings) {
      Tables.SCORE_EMBEDDINGS.write(
          scored.filter(col("reason").isNull()).select(col("image_id"), col("embedding")), dir);
    }
    Tables.SCORES.write(
        scored.filter(col("reason").isNull())
            .select(col("image_id"), col("uri"), col("classes"), col("probs"),
                functions.lit(teacherId).as("teacher_id")),
        dir);
    Tables.SCORE_REJECTS.write(
        scored.filter(col("reason").isNotNull())
            .select(col("uri"), functions.lit(Tables.UNLABELLED).as("split"), col("reason"),
                col("detail"), functions.lit(NAME).as("stage"))
            .coalesce(1),
        dir);
  }

  private static void writeEmpty(RunContext ctx, Path out, Table table) throws IOException {
    ctx.fs().delete(new Path(out, table.name()), true);
    table.write(ctx.spark().createDataFrame(List.<Row>of(), table.schema()).coalesce(1), out);
  }

  static ScorePartition.Settings settings(SemisupConfig c) {
    return new ScorePartition.Settings(c.settings().score().batchSize(), c.settings().score().topP(),
        c.settings().score().decodeThreads(), c.settings().score().prefetchBatches(),
        c.settings().score().progressLogSeconds(), false,
        io.semisup.core.image.FastImageDecoder.Kind.of(c.settings().score().decoder()));
  }

  /** The data files of the unlabelled split, in name order (their index is the shard number). */
  static List<Shard> unlabelledShards(RunContext ctx) throws IOException {
    Path split = Tables.IMAGES.partitionDir(ctx, Tables.UNLABELLED);
    List<Shard> shards = new ArrayList<>();
    if (!ctx.fs().exists(split)) {
      return shards;
    }
    Path base = ctx.fs().makeQualified(split);
    List<LocatedFileStatus> files = new ArrayList<>();
    RemoteIterator<LocatedFileStatus> it = ctx.fs().listFiles(base, true);
    while (it.hasNext()) {
      LocatedFileStatus f = it.next();
      String rel = base.toUri().relativize(f.getPath().toUri()).getPath();
      if (!hidden(rel)) {
        files.add(f);
      }
    }
    files.sort((a, b) -> a.getPath().compareTo(b.getPath()));
    for (LocatedFileStatus f : files) {
      String rel = base.toUri().relativize(f.getPath().toUri()).getPath();
      shards.add(new Shard(shards.size(), rel, f.getPath(), f.getLen()));
    }
    return shards;
  }

  /** Spark's rule for files a table reader skips: any path part starting with '_' or '.'. */
  private static boolean hidden(String relative) {
    for (String part : relative.split("/")) {
      if (part.startsWith("_") || part.startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  /** What decides the scores: teacher bytes, engine, batching, P, and the exact input files. */
  static String fingerprint(ScoringModel model, ScorePartition.Settings s, List<Shard> shards,
      String reusedCommit) {
    StringBuilder sb = new StringBuilder(reusedCommit).append('\n');
    sb.append(model.digest()).append('\n').append(model.backend()).append('\n')
        .append(model.engine().cuda()).append('\n').append(s.batchSize()).append('\n').append(s.topP());
    for (Shard sh : shards) {
      sb.append('\n').append(sh.name()).append('\t').append(sh.length());
    }
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(sb.toString().getBytes(StandardCharsets.UTF_8))).substring(0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
