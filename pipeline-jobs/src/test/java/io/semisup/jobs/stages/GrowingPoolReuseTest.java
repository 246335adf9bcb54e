package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.core.testing.Prerequisites;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.tables.Tables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scheduled run over a pool that grew ({@code shard.reuse-run}, {@code score.reuse-run}): run
 * "week1" shards and scores the N images of a pool folder; run "week2" has N + M images and the same teacher
 * (shared from week1), reads and decodes only the M new files (its images table equals a fresh
 * run's), scores only the M new images with the teacher, takes week1's rows for the others, and
 * select ranks all N + M. A different top-P (another scoring) reuses nothing.
 */
class GrowingPoolReuseTest extends SparkTestBase {

  private static final String[] SLICE = {
    "teacher.epochs=1",
    "teacher.batch-size=16",
    "score.top-p=3",
    "score.batch-size=32",
    "select.k=5",
    "select.p=1",
  };

  @TempDir static Path root;

  /** The image pool the scheduled runs read: fixed folders, into which new images arrive. */
  private Path pool;
  private List<Path> laterArrivals;

  private RunContext ctx(String run, String... more) {
    List<String> all = new java.util.ArrayList<>(List.of(SLICE));
    all.add("data.train-dir=\"" + pool.resolve("train") + "\"");
    all.add("data.val-dir=\"" + pool.resolve("val") + "\"");
    all.add("data.unlabelled-dir=\"" + pool.resolve("unlabelled") + "\"");
    all.addAll(List.of(more));
    return context(root, run, all.toArray(String[]::new));
  }

  @BeforeAll
  void firstWeek() throws Exception {
    Prerequisites.fashionMnist();
    // 100 real unlabelled images: 60 in the pool for week 1, 40 arriving before week 2.
    RunContext source = context(root, "source", "data.labelled-per-class=5", "data.val-limit=20",
        "data.unlabelled-limit=100", "data.validation-size=20");
    new ImportFashionMnistStage().execute(source);
    Path imported = Paths.get(source.stageDir(ImportFashionMnistStage.NAME).toUri());
    pool = Files.createDirectories(root.resolve("pool"));
    copyTree(imported.resolve("train"), pool.resolve("train"));
    copyTree(imported.resolve("val"), pool.resolve("val"));
    List<Path> unlabelled;
    try (Stream<Path> files = Files.list(imported.resolve("unlabelled"))) {
      unlabelled = files.sorted().collect(Collectors.toList());
    }
    assertThat(unlabelled).hasSize(100);
    Files.createDirectories(pool.resolve("unlabelled"));
    for (Path f : unlabelled.subList(0, 60)) {
      Files.copy(f, pool.resolve("unlabelled").resolve(f.getFileName()));
    }
    laterArrivals = unlabelled.subList(60, 100);
    RunContext week1 = ctx("week1");
    for (Stage s : List.of(new ShardStage(), new TeacherStage(), new ScoreStage())) {
      s.execute(week1);
    }
    for (Path f : laterArrivals) {
      Files.copy(f, pool.resolve("unlabelled").resolve(f.getFileName()));
    }
  }

  private static void copyTree(Path from, Path to) throws java.io.IOException {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path f : (Iterable<Path>) all::iterator) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    }
  }

  private static Map<String, Row> scores(RunContext ctx) {
    return Tables.SCORES.read(ctx).collectAsList().stream()
        .collect(Collectors.toMap(r -> r.getAs("image_id"), r -> r));
  }

  /** (split, image_id, uri, bytes, label) of every image, ordered. */
  private static List<String> imageRows(RunContext ctx) {
    return Tables.IMAGES.read(ctx).collectAsList().stream()
        .map(r -> r.getAs("split") + " " + r.getAs("image_id") + " " + r.getAs("uri").toString().replaceAll(".*/", "")
            + " " + java.util.Arrays.hashCode((byte[]) r.getAs("bytes")) + " " + r.getAs("label"))
        .sorted().collect(Collectors.toList());
  }

  @Test
  void secondRunShardsAndScoresOnlyTheNewImagesAndSelectsOverAll() {
    RunContext week1 = ctx("week1");
    RunContext week2 = ctx("week2", "base-run=week1",
        "shared-stages=[teacher]", "shard.reuse-run=week1", "score.reuse-run=week1");
    for (Stage s : List.of(new ShardStage(), new TeacherStage(), new ScoreStage(), new SelectStage())) {
      s.execute(week2);
    }
    Map<String, Row> before = scores(week1);
    Map<String, Row> after = scores(week2);
    Set<String> old = before.keySet();
    long added = after.keySet().stream().filter(id -> !old.contains(id)).count();
    assertThat(before).hasSize(60);
    assertThat(after).hasSize(100);
    assertThat(after.keySet()).containsAll(old);

    // shard read and decoded only the new files; its tables are those of a fresh run.
    JsonNode shard = week2.manifest(ShardStage.NAME).get("counts");
    assertThat(shard.get("unlabelled_read").asLong()).isEqualTo(100);
    assertThat(shard.get("unlabelled_reused").asLong()).as("files decoded by week1").isEqualTo(60);
    assertThat(shard.get("train_reused").asLong()).isEqualTo(shard.get("train_read").asLong());
    assertThat(shard.get("unlabelled_kept").asLong()).isEqualTo(100);
    // A fresh run of week 2 (its teacher also week 1's), scoring with top-P 2: another scoring.
    RunContext fresh = ctx("week2-fresh", "base-run=week1", "shared-stages=[teacher]", "score.reuse-run=week1",
        "score.top-p=2");
    new ShardStage().execute(fresh);
    assertThat(fresh.manifest(ShardStage.NAME).get("counts").get("unlabelled_reused").asLong()).isZero();
    assertThat(imageRows(week2)).isEqualTo(imageRows(fresh));

    JsonNode counts = week2.manifest(ScoreStage.NAME).get("counts");
    assertThat(counts.get("reused").asLong()).isEqualTo(60);
    assertThat(counts.get("teacher_scored").asLong()).as("only the new images met the teacher").isEqualTo(added).isEqualTo(40);
    assertThat(counts.get("scored").asLong()).isEqualTo(100);
    assertThat(week2.manifest(ScoreStage.NAME).get("details").get("reused_from").asText()).isEqualTo("week1");
    for (String id : old) {
      assertThat(after.get(id).<Object>getAs("probs")).isEqualTo(before.get(id).getAs("probs"));
    }
    assertThat(week2.manifest(SelectStage.NAME).get("counts").get("scored_images").asLong()).isEqualTo(100);

    // Scored otherwise (top-P 2): nothing of week 1 stands for it.
    new ScoreStage().execute(fresh);
    JsonNode c2 = fresh.manifest(ScoreStage.NAME).get("counts");
    assertThat(c2.get("reused").asLong()).isZero();
    assertThat(c2.get("teacher_scored").asLong()).isEqualTo(100);

    // A resubmitted, committed score stage is a no-op.
    String finished = week2.manifest(ScoreStage.NAME).get("finished_at").asText();
    assertThat(new ScoreStage().execute(week2).skipped()).isTrue();
    assertThat(week2.manifest(ScoreStage.NAME).get("finished_at").asText()).isEqualTo(finished);
  }

  /**
   * score.embeddings and reuse: a run that wants embeddings reuses nothing of a run without them
   * (week 1), takes the scores and the embeddings of one that wrote them, and a run without
   * embeddings may reuse a run with them; every such score stage is rerun when only
   * score.embeddings changes (a stage identity key).
   */
  @Test
  void embeddingsAreReusedOnlyFromARunThatWroteThem() {
    RunContext a = ctx("emb-a", "base-run=week1", "shared-stages=[teacher]", "score.reuse-run=week1",
        "score.embeddings=true");
    new ShardStage().execute(a);
    new ScoreStage().execute(a);
    JsonNode ca = a.manifest(ScoreStage.NAME).get("counts");
    assertThat(ca.get("reused").asLong()).as("week 1 wrote no embeddings").isZero();
    Map<String, Object> embA = embeddings(a);
    assertThat(embA).hasSize(100);

    RunContext b = ctx("emb-b", "base-run=week1", "shared-stages=[teacher]", "score.reuse-run=emb-a",
        "score.embeddings=true");
    new ShardStage().execute(b);
    new ScoreStage().execute(b);
    assertThat(b.manifest(ScoreStage.NAME).get("counts").get("reused").asLong()).isEqualTo(100);
    assertThat(embeddings(b)).isEqualTo(embA);

    RunContext c = ctx("emb-c", "base-run=week1", "shared-stages=[teacher]", "score.reuse-run=emb-a");
    new ShardStage().execute(c);
    new ScoreStage().execute(c);
    assertThat(c.manifest(ScoreStage.NAME).get("counts").get("reused").asLong()).isEqualTo(100);
    assertThat(Tables.SCORE_EMBEDDINGS.read(c).count()).isZero();
    assertThat(c.manifest(ScoreStage.NAME).get("details").get(ScoreStage.EMBEDDINGS).asBoolean())
        .isFalse();

    // The same run asked for embeddings now: its committed scores are not reused silently.
    RunContext cWithEmbeddings = ctx("emb-c", "base-run=week1", "shared-stages=[teacher]",
        "score.reuse-run=emb-a", "score.embeddings=true");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new ScoreStage().execute(cWithEmbeddings))
        .hasMessageContaining("score.embeddings");
  }

  private static Map<String, Object> embeddings(RunContext ctx) {
    return Tables.SCORE_EMBEDDINGS.read(ctx).collectAsList().stream()
        .collect(Collectors.toMap(r -> r.getAs("image_id"), r -> r.getList(1)));
  }
}
