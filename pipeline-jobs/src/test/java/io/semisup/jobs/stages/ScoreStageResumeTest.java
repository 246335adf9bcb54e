package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.core.data.FashionMnist;
import io.semisup.core.model.Architectures;
import io.semisup.core.model.ModelMetadata;
import io.semisup.core.scoring.OnnxExporter;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import io.semisup.core.testing.Prerequisites;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code score} survives a crash: a run whose scoring fails part-way (a shard's task fails on
 * purpose through the {@code score.fail-shard} hook) publishes nothing, keeps the shards it
 * committed, and a rerun scores only the others; the tables it commits equal those of an
 * uninterrupted run, row for row. The teacher is brought as an ONNX file plus metadata (a model
 * our exporter wrote, standing in for a user's), which also exercises that path's checks.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScoreStageResumeTest extends SparkTestBase {

  @TempDir static Path root;
  @TempDir static Path files;

  static final String RUN = "resume";
  static Path onnx;
  static Path metadata;
  static int shardCount;

  /** The test's settings; {@code more} come first, and the first setting of a key wins. */
  private RunContext ctx(String... more) {
    List<String> o = new ArrayList<>(List.of(
        "data.labelled-per-class=5",
        "data.unlabelled-limit=300", "data.validation-size=100",
        "data.val-limit=20",
        // A few small shards, each committed on its own.
        "shard.target-shard-bytes=25000",
        "score.top-p=3",
        "score.batch-size=16",
        "score.shards-per-commit=1",
        "score.decode-threads=2",
        "score.teacher-onnx=\"" + onnx + "\"",
        "score.teacher-metadata=\"" + metadata + "\""));
    o.addAll(Arrays.asList(more)); // later overrides win
    return context(root, RUN, o.toArray(String[]::new));
  }

  @BeforeAll
  void shardsAndTeacher() throws Exception {
    Prerequisites.fashionMnist();
    onnx = files.resolve("teacher.onnx");
    metadata = files.resolve("teacher.json");
    Files.write(onnx, new byte[0]);
    Files.writeString(metadata, "{}");
    RunContext ctx = ctx();
    new ImportFashionMnistStage().execute(ctx);
    new ShardStage().execute(ctx);
    // A user's teacher: any ONNX model with one NCHW input and softmax output, whose metadata
    // lists the run's classes in the run's order.
    ComputationGraph g = Architectures.build("resnet-tiny", FashionMnist.INPUT_SPEC, 10,
        TrainingConfig.defaults().withSeed(3));
    Files.write(onnx, new OnnxExporter(FashionMnist.INPUT_SPEC).toBytes(g));
    Files.writeString(metadata, new ModelMetadata("users-teacher", "their-cnn", Classes.of(ctx),
        FashionMnist.INPUT_SPEC, 0, Map.of()).toJson());
    shardCount = ScoreStage.unlabelledShards(ctx).size();
    assertThat(shardCount).as("unlabelled shards to resume over").isGreaterThanOrEqualTo(4);
  }

  private List<String> rows(RunContext ctx, Table table) {
    return table.read(ctx).collectAsList().stream()
        .map(Row::toString).sorted().collect(Collectors.toList());
  }

  private Path resumeDir() {
    return root.resolve(RUN).resolve(ScoreProgress.ROOT);
  }

  static List<String> resumed;
  static List<String> resumedRejects;

  @Test
  @Order(1)
  void failedRunPublishesNothingAndKeepsCommittedShards() throws Exception {
    RunContext failing = ctx("score.fail-shard=2");
    assertThatThrownBy(() -> new ScoreStage().execute(failing))
        .hasStackTraceContaining("Fault injected by score.fail-shard");
    assertThat(failing.isCommitted(ScoreStage.NAME)).isFalse();
    assertThat(root.resolve(RUN).resolve(ScoreStage.NAME)).doesNotExist();

    ScoreStage.Shard failed = ScoreStage.unlabelledShards(failing).get(2);
    Set<String> done;
    try (var dirs = Files.list(resumeDir())) {
      Path progress = dirs.findFirst().orElseThrow();
      RunContext any = ctx();
      done = ScoreProgress.open(any, progress.getFileName().toString().substring("score-".length()),
          false).doneShards();
    }
    // Groups run two at a time: shards 0 and 1 were in flight when shard 2 failed, and finished.
    List<String> names = ScoreStage.unlabelledShards(failing).stream()
        .map(ScoreStage.Shard::name).toList();
    assertThat(done).contains(names.get(0), names.get(1)).doesNotContain(failed.name());
    assertThat(done.size()).isLessThan(shardCount);
  }

  @Test
  @Order(2)
  void rerunScoresOnlyTheRest() throws Exception {
    Set<String> before;
    try (var dirs = Files.list(resumeDir())) {
      Path progress = dirs.findFirst().orElseThrow();
      before = ScoreProgress.open(ctx(), progress.getFileName().toString().substring(6), false)
          .doneShards();
    }
    RunContext ctx = ctx();
    assertThat(new ScoreStage().execute(ctx).skipped()).isFalse();
    JsonNode c = ctx.manifest(ScoreStage.NAME).get("counts");
    assertThat(c.get("shards").asInt()).isEqualTo(shardCount);
    assertThat(c.get("shards_resumed").asInt()).isEqualTo(before.size());
    assertThat(c.get("shards_scored").asInt()).isEqualTo(shardCount - before.size());
    assertThat(c.get("read").asLong())
        .isEqualTo(ctx.manifest(ShardStage.NAME).get("counts").get("unlabelled_kept").asLong());
    assertThat(resumeDir()).as("progress is removed once the stage commits").doesNotExist();
    resumed = rows(ctx, Tables.SCORES);
    resumedRejects = rows(ctx, Tables.SCORE_REJECTS);
    assertThat(resumed).hasSize((int) c.get("scored").asLong());
    assertThat(ctx.manifest(ScoreStage.NAME).get("details").get("teacher_id").asText())
        .isEqualTo("users-teacher");
  }

  /** Planning the scoring query over many shards must not cost a Spark job per shard. */
  @Test
  @Order(10)
  void readingTheShardsStartsNoSparkJob() throws Exception {
    List<String> groups = new CopyOnWriteArrayList<>();
    CountDownLatch sentinel = new CountDownLatch(1);
    SparkListener listener = new SparkListener() {
      @Override
      public void onJobStart(SparkListenerJobStart e) {
        String g = e.properties() == null ? null : e.properties().getProperty("spark.jobGroup.id");
        groups.add(String.valueOf(g));
        if ("sentinel".equals(g)) {
          sentinel.countDown();
        }
      }
    };
    spark.sparkContext().addSparkListener(listener);
    try {
      RunContext ctx = ctx();
      spark.sparkContext().setJobGroup("read-shards", "read", false);
      List<String> columns = new ArrayList<>();
      for (ScoreStage.Shard s : ScoreStage.unlabelledShards(ctx)) {
        columns.add(String.join(",", ScoreStage.shardImages(ctx, s).columns()));
      }
      // Listener events arrive in order: once the sentinel job is seen, every job started
      // while reading has been seen too.
      spark.sparkContext().setJobGroup("sentinel", "sentinel", false);
      spark.range(1).count();
      assertThat(sentinel.await(60, TimeUnit.SECONDS)).isTrue();
      assertThat(groups).doesNotContain("read-shards").contains("sentinel");
      assertThat(columns).hasSize(shardCount).containsOnly("image_id,uri,bytes,label");
    } finally {
      spark.sparkContext().clearJobGroup();
      spark.sparkContext().removeSparkListener(listener);
    }
  }

  @Test
  @Order(3)
  void resumedTablesEqualThoseOfAnUninterruptedRun() {
    RunContext clean = ctx("force=true");
    new ScoreStage().execute(clean);
    JsonNode c = clean.manifest(ScoreStage.NAME).get("counts");
    assertThat(c.get("shards_resumed").asInt()).isZero();
    assertThat(c.get("shards_scored").asInt()).isEqualTo(shardCount);
    assertThat(rows(clean, Tables.SCORES)).isEqualTo(resumed);
    assertThat(rows(clean, Tables.SCORE_REJECTS)).isEqualTo(resumedRejects);
  }

  @Test
  @Order(4)
  void ownTeacherMustFitTheRunAndSayHowToFix() throws Exception {
    // Class names in another order than the run's (Fashion-MNIST's label order, not sorted).
    Path wrongOrder = files.resolve("wrong-order.json");
    Files.writeString(wrongOrder, new ModelMetadata("t", "x", FashionMnist.CLASS_NAMES,
        FashionMnist.INPUT_SPEC, 0, Map.of()).toJson());
    assertThatThrownBy(() -> new ScoreStage().execute(
        ctx("force=true", "score.teacher-metadata=\"" + wrongOrder + "\"")))
        .hasMessageContaining("wrong-order.json").hasMessageContaining("classNames differ")
        .hasMessageContaining("classes.json");

    Path wrongSize = files.resolve("wrong-size.json");
    Files.writeString(wrongSize, new ModelMetadata("t", "x", Classes.of(ctx()),
        FashionMnist.INPUT_SPEC.withSize(32, 32), 0, Map.of()).toJson());
    assertThatThrownBy(() -> new ScoreStage().execute(
        ctx("force=true", "score.teacher-metadata=\"" + wrongSize + "\"")))
        .hasMessageContaining("teacher.onnx").hasMessageContaining("wrong-size.json")
        .hasMessageContaining("[-1, 1, 28, 28]");

    assertThatThrownBy(() -> new ScoreStage().execute(
        ctx("force=true", "score.teacher-onnx=\"" + files.resolve("nope.onnx") + "\"")))
        .hasMessageContaining("nope.onnx").hasMessageContaining("does not exist");

    assertThatThrownBy(() -> new ScoreStage().execute(
        ctx("force=true", "score.teacher-metadata=\"\"")))
        .hasMessageContaining("set both score.teacher-onnx");

    Files.writeString(files.resolve("bad.json"), "{\"modelId\": 3");
    assertThatThrownBy(() -> new ScoreStage().execute(
        ctx("force=true", "score.teacher-metadata=\"" + files.resolve("bad.json") + "\"")))
        .hasMessageContaining("bad.json").hasMessageContaining("must be a JSON object like");

    assertThatThrownBy(() -> new ScoreStage().execute(ctx("force=true", "score.backend=dl4j")))
        .hasMessageContaining("score.backend=onnx");
  }
  @Test
  @Order(5)
  void ownTeacherRunsThroughToEvaluationWithoutATeacherStage() throws Exception {
    RunContext ctx = ctx("select.k=5", "student.init=scratch", "student.epochs=1", "student.labelled-repeat=1",
        "student.batch-size=16", "finetune.epochs=1", "finetune.batch-size=16");
    new ScoreStage().execute(ctx);
    for (Stage s : List.of(new SelectStage(), new StudentStage(), new FinetuneStage(), new EvaluateStage())) {
      s.execute(ctx);
    }
    assertThat(ctx.isCommitted(TeacherStage.NAME)).isFalse();
    JsonNode m = RunContext.json().readTree(ctx.readBytes(
        new org.apache.hadoop.fs.Path(ctx.stageDir(EvaluateStage.NAME), EvaluateStage.METRICS_JSON)));
    assertThat(m.get("teacher").get("model_id").asText()).startsWith("users-teacher");
    assertThat(m.get("teacher").get("top1").asDouble()).isBetween(0.0, 1.0);
    assertThat(m.get("val_images").asLong()).isEqualTo(20);
  }
}
