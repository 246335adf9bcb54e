package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.core.testing.Prerequisites;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.tables.Tables;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scheduled run over a pool that grew ({@code score.reuse-run}): run "week1" imports, shards and
 * scores N images; run "week2" has N + M images and the same teacher (shared from week1), scores
 * only the M new ones with the teacher, takes week1's rows for the others, and select ranks all
 * N + M. A different top-P (another scoring) reuses nothing.
 */
class ScoreReuseTest extends SparkTestBase {

  private static final String[] SLICE = {
    "data.labelled-per-class=5",
    "data.val-limit=20",
    "teacher.epochs=1",
    "teacher.batch-size=16",
    "score.top-p=3",
    "score.batch-size=32",
    "select.k=5",
    "select.p=1",
  };

  @TempDir static Path root;

  private RunContext ctx(String run, String... more) {
    String[] all = java.util.Arrays.copyOf(SLICE, SLICE.length + more.length);
    System.arraycopy(more, 0, all, SLICE.length, more.length);
    return context(root, run, all);
  }

  @BeforeAll
  void firstWeek() {
    Prerequisites.fashionMnist();
    RunContext week1 = ctx("week1", "data.unlabelled-limit=60");
    for (Stage s : List.of(new ImportFashionMnistStage(), new ShardStage(), new TeacherStage(), new ScoreStage())) {
      s.execute(week1);
    }
  }

  private static Map<String, Row> scores(RunContext ctx) {
    return Tables.SCORES.read(ctx).collectAsList().stream()
        .collect(Collectors.toMap(r -> r.getAs("image_id"), r -> r));
  }

  @Test
  void secondRunScoresOnlyTheNewImagesAndSelectsOverAll() {
    RunContext week1 = ctx("week1", "data.unlabelled-limit=60");
    RunContext week2 = ctx("week2", "data.unlabelled-limit=100", "base-run=week1",
        "shared-stages=[teacher]", "score.reuse-run=week1");
    for (Stage s : List.of(new ImportFashionMnistStage(), new ShardStage(), new TeacherStage(),
        new ScoreStage(), new SelectStage())) {
      s.execute(week2);
    }
    Map<String, Row> before = scores(week1);
    Map<String, Row> after = scores(week2);
    Set<String> old = before.keySet();
    long added = after.keySet().stream().filter(id -> !old.contains(id)).count();
    assertThat(before).hasSize(60);
    assertThat(after).hasSize(100);
    assertThat(after.keySet()).containsAll(old);

    JsonNode counts = week2.manifest(ScoreStage.NAME).get("counts");
    assertThat(counts.get("reused").asLong()).isEqualTo(60);
    assertThat(counts.get("teacher_scored").asLong()).as("only the new images met the teacher").isEqualTo(added).isEqualTo(40);
    assertThat(counts.get("scored").asLong()).isEqualTo(100);
    assertThat(week2.manifest(ScoreStage.NAME).get("details").get("reused_from").asText()).isEqualTo("week1");
    for (String id : old) {
      assertThat(after.get(id).<Object>getAs("probs")).isEqualTo(before.get(id).getAs("probs"));
    }
    assertThat(week2.manifest(SelectStage.NAME).get("counts").get("scored_images").asLong()).isEqualTo(100);

    // Scored otherwise (top-P 2): nothing of week1 stands for it.
    RunContext other = ctx("week2-p2", "data.unlabelled-limit=100", "base-run=week1",
        "shared-stages=[teacher]", "score.reuse-run=week1", "score.top-p=2");
    for (Stage s : List.of(new ImportFashionMnistStage(), new ShardStage(), new ScoreStage())) {
      s.execute(other);
    }
    JsonNode c2 = other.manifest(ScoreStage.NAME).get("counts");
    assertThat(c2.get("reused").asLong()).isZero();
    assertThat(c2.get("teacher_scored").asLong()).isEqualTo(100);

    // A resubmitted, committed score stage is a no-op.
    String finished = week2.manifest(ScoreStage.NAME).get("finished_at").asText();
    assertThat(new ScoreStage().execute(week2).skipped()).isTrue();
    assertThat(week2.manifest(ScoreStage.NAME).get("finished_at").asText()).isEqualTo(finished);
  }
}
