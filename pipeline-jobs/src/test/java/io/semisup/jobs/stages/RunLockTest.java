package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.jobs.SparkTestBase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One writer per run: a lock held by another live process stops a second writer at once, naming
 * it; a lock whose process is gone is taken over and the staging folders it left are removed.
 * Independently of the lock, score and select refuse to commit an image twice.
 */
class RunLockTest extends SparkTestBase {

  @TempDir Path root;

  /** A lock file as another process on this host would write it. */
  private static void holdAs(Path runDir, long pid) throws Exception {
    Files.createDirectories(runDir);
    Files.writeString(runDir.resolve(RunLock.FILE), "{\"token\":\"other\",\"host\":\""
        + RunLock.hostName() + "\",\"pid\":" + pid + ",\"started_at\":\"2026-12-07T06:00:00Z\","
        + "\"command\":\"semisup shard --run-id same\"}", StandardCharsets.UTF_8);
  }

  @Test
  void aSecondWriterFailsAtOnceNamingTheHolder() throws Exception {
    Process other = new ProcessBuilder("sleep", "60").start();
    try {
      holdAs(root.resolve("same"), other.pid());
      RunContext ctx = context(root, "same");
      assertThatThrownBy(ctx::lockForWriting)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("pid " + other.pid())
          .hasMessageContaining("semisup shard --run-id same")
          .hasMessageContaining("another --run-id");
      assertThat(RunLock.holds(ctx.runDir())).isFalse();
    } finally {
      other.destroyForcibly().waitFor();
    }
  }

  @Test
  void aDeadWritersLockIsTakenOverAndItsStagingRemoved() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    Path runDir = root.resolve("crashed");
    holdAs(runDir, gone.pid());
    Path leftover = runDir.resolve(Stage.STAGING).resolve("score-1234");
    Files.createDirectories(leftover);
    RunContext ctx = context(root, "crashed");
    ctx.lockForWriting();
    assertThat(RunLock.holds(ctx.runDir())).isTrue();
    assertThat(Files.readString(runDir.resolve(RunLock.FILE)))
        .contains("\"pid\" : " + ProcessHandle.current().pid());
    assertThat(leftover).doesNotExist();
    ctx.lockForWriting(); // re-entrant within one JVM
  }

  @Test
  void scoreGroupsThatOverlapAreNeverAssembled() {
    org.apache.hadoop.fs.Path a = new org.apache.hadoop.fs.Path("/r/_resume/score-x/group-a");
    org.apache.hadoop.fs.Path b = new org.apache.hadoop.fs.Path("/r/_resume/score-x/group-b");
    ScoreProgress.requireDisjoint(List.of(new ScoreProgress.Group(a, List.of("s0", "s1"), 5, 0),
        new ScoreProgress.Group(b, List.of("s2"), 3, 0)));
    assertThatThrownBy(() -> ScoreProgress.requireDisjoint(List.of(
            new ScoreProgress.Group(a, List.of("s0", "s1"), 5, 0),
            new ScoreProgress.Group(b, List.of("s1", "s2"), 5, 0))))
        .hasMessageContaining("shard s1").hasMessageContaining("group-a").hasMessageContaining("group-b");
  }

  @Test
  void selectionNeverRanksOneImageTwiceInAClass() {
    StructType schema = new StructType().add("class", DataTypes.IntegerType)
        .add("image_id", DataTypes.StringType).add("rank", DataTypes.IntegerType);
    SelectStage.requireDistinctPerClass(spark.createDataFrame(List.of(
        RowFactory.create(0, "a", 1), RowFactory.create(1, "a", 1), RowFactory.create(0, "b", 2)), schema), 3);
    assertThatThrownBy(() -> SelectStage.requireDistinctPerClass(spark.createDataFrame(List.of(
            RowFactory.create(0, "a", 1), RowFactory.create(0, "a", 2)), schema), 2))
        .hasMessageContaining("image a is ranked 2 times in class 0");
  }
}
