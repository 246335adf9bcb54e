package io.semisup.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.semisup.core.UsageError;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.ScoreStage;
import io.semisup.jobs.stages.SelectStage;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.tables.Tables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code export --force} into a folder that also holds the user's own files: it replaces what an
 * earlier export wrote (listed in its manifest) and nothing else.
 */
class ExportCommandTest extends SparkTestBase {

  @TempDir static Path root;

  /** A run with just the committed score and select tables export reads. */
  @BeforeAll
  void fakeRun() throws IOException {
    RunContext ctx = ctx(false);
    Tables.SCORES.write(spark.createDataFrame(List.of(
            RowFactory.create("id1", "file:/u/1.png", new int[] {0, 1}, new float[] {0.9f, 0.1f}, "t"),
            RowFactory.create("id2", "file:/u/2.png", new int[] {1, 0}, new float[] {0.8f, 0.2f}, "t")),
            Tables.SCORES.schema()),
        ctx.stageDir(ScoreStage.NAME));
    Tables.PSEUDO_LABELS.write(spark.createDataFrame(List.of(
            RowFactory.create(0, "a", 1, "id1", 0.9f, "file:/u/1.png"),
            RowFactory.create(1, "b", 1, "id2", 0.8f, "file:/u/2.png")),
            Tables.PSEUDO_LABELS.schema()),
        ctx.stageDir(SelectStage.NAME));
    Tables.CLASS_COUNTS.write(spark.createDataFrame(List.of(
            RowFactory.create(0, "a", 1L, 1L, 0.9f, false), RowFactory.create(1, "b", 1L, 1L, 0.8f, false)),
            Tables.CLASS_COUNTS.schema()),
        ctx.stageDir(SelectStage.NAME));
    for (String stage : List.of(ScoreStage.NAME, SelectStage.NAME)) {
      Files.createFile(root.resolve("runs/r").resolve(stage).resolve(Stage.SUCCESS));
    }
  }

  private RunContext ctx(boolean force) {
    return context(root.resolve("runs"), "r", "force=" + force);
  }

  private static ExportCommand export(String format) {
    ExportCommand e = new ExportCommand();
    e.format = format;
    e.thumbnailsPerClass = 0;
    e.thumbnailSize = 64;
    e.scoresFraction = 1.0;
    return e;
  }

  private static List<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
    }
  }

  @Test
  void forceReplacesOnlyWhatAnEarlierExportWrote() throws IOException {
    Path out = Files.createDirectories(root.resolve("shared-folder"));
    Files.writeString(out.resolve("my-notes.txt"), "mine");
    Files.createDirectories(out.resolve("analysis"));
    Files.writeString(out.resolve("analysis/plot.txt"), "also mine");

    assertThatThrownBy(() -> export("csv").export(ctx(false), new org.apache.hadoop.fs.Path(out.toString())))
        .isInstanceOf(UsageError.class).hasMessageContaining("--force");

    export("csv").export(ctx(true), new org.apache.hadoop.fs.Path(out.toString()));
    List<String> first = files(out);
    assertThat(first).contains("my-notes.txt", "analysis/plot.txt", "export.json", ExportManifest.NAME)
        .anyMatch(f -> f.startsWith("pseudo_labels/") && f.endsWith(".csv"));
    String manifest = Files.readString(out.resolve(ExportManifest.NAME));
    assertThat(manifest).contains("export.json", "pseudo_labels/").doesNotContain("my-notes.txt", "plot.txt");

    export("jsonl").export(ctx(true), new org.apache.hadoop.fs.Path(out.toString()));
    List<String> second = files(out);
    assertThat(second).contains("my-notes.txt", "analysis/plot.txt", "export.json")
        .noneMatch(f -> f.endsWith(".csv"))
        .anyMatch(f -> f.startsWith("pseudo_labels/") && f.endsWith(".json"));
    assertThat(Files.readString(out.resolve("my-notes.txt"))).isEqualTo("mine");
  }

  @Test
  void forceRefusesToOverwriteAFolderNoExportListed() throws IOException {
    Path out = Files.createDirectories(root.resolve("foreign"));
    Files.createDirectories(out.resolve("scores"));
    Files.writeString(out.resolve("scores/keep.csv"), "someone else's scores");
    assertThatThrownBy(() -> export("csv").export(ctx(true), new org.apache.hadoop.fs.Path(out.toString())))
        .isInstanceOf(UsageError.class).hasMessageContaining("scores").hasMessageContaining(ExportManifest.NAME);
    assertThat(files(out)).containsExactly("scores/keep.csv");
  }
}
