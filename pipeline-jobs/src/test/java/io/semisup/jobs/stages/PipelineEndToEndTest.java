package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.tables.Table;
import io.semisup.jobs.tables.Tables;
import io.semisup.core.testing.Prerequisites;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole chain on a small real slice of Fashion-MNIST, with junk files planted in the
 * unlabelled folder: every stage commits, counts add up, metrics are sane, a rerun is a no-op.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineEndToEndTest extends SparkTestBase {

  @TempDir static Path root;

  static final String RUN = "e2e";

  private RunContext ctx() {
    return context(root, RUN, smallSlice());
  }

  @Test
  @Order(1)
  void importWritesImageNetLayout() throws Exception {
    Prerequisites.fashionMnist();
    RunContext ctx = ctx();
    new ImportFashionMnistStage().execute(ctx);
    Path out = root.resolve(RUN).resolve(ImportFashionMnistStage.NAME);
    try (Stream<Path> classes = Files.list(out.resolve("train"))) {
      assertThat(classes.count()).isEqualTo(10);
    }
    try (Stream<Path> files = Files.list(out.resolve("unlabelled"))) {
      assertThat(files.count()).isEqualTo(1200);
    }
    assertThat(Files.readAllLines(out.resolve(ImportFashionMnistStage.HIDDEN_LABELS))).hasSize(1201);
    JsonNode m = ctx.manifest(ImportFashionMnistStage.NAME);
    assertThat(m.get("counts").get("labelled").asLong()).isEqualTo(200);
    // The validation split: pool images out of the pool, labelled in ImageNet layout, no file
    // shared with the labelled, unlabelled or test images, and not in the hidden labels.
    List<String> validation = fileNames(out.resolve(ImportFashionMnistStage.VALIDATION));
    assertThat(validation).hasSize(300).allMatch(f -> f.startsWith("fmnist-train-"));
    assertThat(fileNames(out.resolve("train"))).doesNotContainAnyElementsOf(validation);
    assertThat(fileNames(out.resolve("unlabelled"))).doesNotContainAnyElementsOf(validation);
    assertThat(fileNames(out.resolve("val"))).allMatch(f -> f.startsWith("fmnist-test-"));
    assertThat(Files.readString(out.resolve(ImportFashionMnistStage.HIDDEN_LABELS)))
        .doesNotContain(validation.get(0) + ",");
    assertThat(m.get("counts").get("validation").asLong()).isEqualTo(300);

    // A user's folder is never clean: plant junk and a duplicate in it.
    Path unl = out.resolve("unlabelled");
    Path anyPng;
    try (Stream<Path> files = Files.list(unl)) {
      anyPng = files.findFirst().orElseThrow();
    }
    byte[] png = Files.readAllBytes(anyPng);
    Files.write(unl.resolve("zz-truncated.png"), java.util.Arrays.copyOf(png, png.length / 2));
    Files.writeString(unl.resolve("zz-notes.txt"), "not an image at all");
    Files.write(unl.resolve("zz-empty.png"), new byte[0]);
    Files.write(unl.resolve("zz-copy.png"), png);
  }

  /** File names (not paths) of every file under {@code dir}. */
  private static List<String> fileNames(Path dir) throws java.io.IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).toList();
    }
  }

  @Test
  @Order(2)
  void shardCountsAddUpAndRejectsHaveReasons() {
    RunContext ctx = ctx();
    new ShardStage().execute(ctx);
    JsonNode c = ctx.manifest(ShardStage.NAME).get("counts");
    for (String split : List.of("train", "val", "validation", "unlabelled")) {
      long read = c.get(split + "_read").asLong();
      long sum = c.get(split + "_kept").asLong() + c.get(split + "_duplicates").asLong()
          + c.get(split + "_rejected").asLong() + c.get(split + "_same_as_labelled").asLong();
      assertThat(sum).as("counts of %s add up", split).isEqualTo(read);
    }
    assertThat(c.get("unlabelled_read").asLong()).isEqualTo(1204);
    assertThat(c.get("unlabelled_rejected").asLong()).isEqualTo(3);
    assertThat(c.get("unlabelled_duplicates").asLong()).isGreaterThanOrEqualTo(1);
    List<Row> rejects = Tables.SHARD_REJECTS.read(ctx).orderBy("uri").collectAsList();
    assertThat(rejects).extracting(r -> r.getString(r.fieldIndex("uri")).replaceAll(".*/", "") + ":" + r.getString(r.fieldIndex("reason")))
        .containsExactly("zz-empty.png:EMPTY", "zz-notes.txt:NOT_AN_IMAGE", "zz-truncated.png:TRUNCATED");
  }

  @Test
  @Order(3)
  void teacherScoreSelectStudentFinetuneEvaluate() throws Exception {
    RunContext ctx = ctx();
    for (Stage s : List.of(new TeacherStage(), new ScoreStage(), new SelectStage(), new StudentStage(), new FinetuneStage(), new EvaluateStage(), new AuditStage(), new ReportStage())) {
      assertThat(s.execute(ctx).skipped()).isFalse();
    }
    // score: one row per kept unlabelled image, top-P sorted, probabilities sum to <= 1.
    JsonNode sc = ctx.manifest(ScoreStage.NAME).get("counts");
    assertThat(sc.get("read").asLong()).isEqualTo(ctx.manifest(ShardStage.NAME).get("counts").get("unlabelled_kept").asLong());
    Row first = Tables.SCORES.read(ctx).first();
    List<Float> probs = first.getList(first.fieldIndex("probs"));
    assertThat(probs).hasSize(3);
    assertThat(probs.get(0)).isGreaterThanOrEqualTo(probs.get(1));
    // select: at most K per class, ranks 1..n, each image in at most P classes.
    List<Row> pseudo = Tables.PSEUDO_LABELS.read(ctx).collectAsList();
    assertThat(pseudo).isNotEmpty();
    assertThat(pseudo.stream().collect(java.util.stream.Collectors.groupingBy(r -> r.getInt(0), java.util.stream.Collectors.counting())).values())
        .allMatch(n -> n <= 60);
    assertThat(pseudo.stream().collect(java.util.stream.Collectors.groupingBy(r -> r.getString(r.fieldIndex("image_id")), java.util.stream.Collectors.counting())).values())
        .allMatch(n -> n <= 2);
    // evaluate: the contract the demo relies on.
    JsonNode m = RunContext.json().readTree(ctx.readBytes(new org.apache.hadoop.fs.Path(ctx.stageDir(EvaluateStage.NAME), EvaluateStage.METRICS_JSON)));
    for (String model : List.of("teacher", "student", "finetuned")) {
      assertThat(m.get(model).get("top1").asDouble()).isBetween(0.0, 1.0);
      assertThat(m.get(model).get("top5").asDouble()).isGreaterThanOrEqualTo(m.get(model).get("top1").asDouble());
    }
    // Every model has its validation figure beside the test one.
    assertThat(m.get("validation_images").asLong()).isEqualTo(ctx.manifest(ShardStage.NAME).get("counts").get("validation_kept").asLong())
        .isGreaterThan(250);
    for (String model : List.of("teacher", "student", "finetuned")) {
      assertThat(m.get(model).get("validation_top1").asDouble()).isBetween(0.0, 1.0);
    }
    // Even 4 epochs on 200 images learn something: far above the 10% of chance.
    assertThat(m.get("teacher").get("top1").asDouble()).isGreaterThan(0.4);
    assertThat(m.get("pseudo_label_precision").asDouble()).isBetween(0.3, 1.0);
    // audit: its verdict lands in metrics.json; the val split halves add up.
    JsonNode audit = m.get(AuditStage.METRICS_KEY);
    assertThat(audit.get("p_value").asDouble()).isBetween(0.0, 1.0);
    assertThat(audit.get("suspect_images").asLong() + audit.get("reference_images").asLong())
        .isEqualTo(m.get("val_images").asLong());
  }

  @Test
  @Order(4)
  void rerunSkipsEveryStageAndKeepsPseudoLabels() {
    RunContext ctx = ctx();
    List<Row> before = Tables.PSEUDO_LABELS.read(ctx).orderBy("class", "rank").collectAsList();
    for (Stage s : StageGraph.standard().all()) {
      assertThat(s.execute(ctx).skipped()).as(s.name()).isTrue();
    }
    List<Row> after = Tables.PSEUDO_LABELS.read(ctx).orderBy("class", "rank").collectAsList();
    assertThat(after).isEqualTo(before);
  }

  @Test
  @Order(5)
  void labelledRepeatPutsEachLabelledImageThatOftenIntoTheStudentsSet() {
    List<String> settings = new java.util.ArrayList<>(List.of(smallSlice()));
    settings.addAll(List.of("student.labelled-repeat=7", "student.epochs=1", "force=true"));
    RunContext ctx = context(root, RUN, settings.toArray(new String[0]));
    long pseudo = Tables.PSEUDO_LABELS.read(ctx).count();
    long labelled = ctx.manifest(ShardStage.NAME).get("counts").get("train_kept").asLong();
    long before = ctx.manifest(StudentStage.NAME).get("counts").get("training_images").asLong();
    assertThat(before).isEqualTo(pseudo + context(root, RUN, smallSlice()).config().getInt("student.labelled-repeat") * labelled);

    new StudentStage().execute(ctx);
    assertThat(ctx.manifest(StudentStage.NAME).get("counts").get("training_images").asLong())
        .isEqualTo(pseudo + 7 * labelled);

    List<String> none = new java.util.ArrayList<>(settings);
    none.add("student.labelled-repeat=0");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new StudentStage().execute(context(root, RUN, none.toArray(new String[0]))))
        .hasMessageContaining("student.labelled-repeat")
        .hasMessageContaining("student.with-labelled=false");
  }

  @Test
  @Order(6)
  void everyParquetTableOfTheRunIsDeclaredByItsStageWithTheSchemaItWasWrittenWith() throws Exception {
    RunContext ctx = ctx();
    for (Stage s : StageGraph.standard().all()) {
      if (!s.enabled(ctx)) { // fixres: off by default, writes nothing
        continue;
      }
      Path dir = Paths.get(ctx.stageDir(s.name()).toUri());
      java.util.Set<String> found = new java.util.TreeSet<>();
      try (Stream<Path> files = Files.walk(dir)) {
        files.filter(f -> f.getFileName().toString().endsWith(".parquet")).forEach(f -> {
          // <stage>/<table>/[<column>=<value>/]part-*.parquet
          Path table = f.getParent();
          while (table.getFileName().toString().contains("=")) {
            table = table.getParent();
          }
          found.add(dir.relativize(table).toString());
        });
      }
      assertThat(found).as("Parquet tables stage %s wrote", s.name())
          .containsExactlyInAnyOrderElementsOf(s.outputs().stream().map(Table::name).toList());
      for (Table t : s.outputs()) {
        // What the files hold, schema inferred (Spark reads every column back as nullable).
        org.apache.spark.sql.types.StructType written =
            spark.read().parquet(t.dir(ctx).toString()).schema();
        assertThat(columns(written)).as("schema of %s", t).isEqualTo(columns(t.schema()));
      }
    }
  }

  @Test
  @Order(7)
  void fixresFreezesAllButTheClassifierAndTheLastStatisticsAndEvaluateReportsIt() throws Exception {
    List<String> settings = new java.util.ArrayList<>(List.of(smallSlice()));
    settings.addAll(List.of("fixres.enabled=true", "fixres.model=student", "fixres.test-size=32",
        "fixres.epochs=2", "fixres.batch-size=16", "model.test-resize-ratio=1.25"));
    RunContext ctx = context(root, RUN, settings.toArray(new String[0]));
    assertThat(new FixresStage().execute(ctx).skipped()).isFalse();

    io.semisup.core.model.ModelBundle student = Models.load(ctx, StudentStage.NAME);
    io.semisup.core.model.ModelBundle fixed = Models.load(ctx, FixresStage.NAME);
    // The fixed model carries the run's test transform (resize to 40, centre crop 32).
    assertThat(fixed.metadata().input())
        .isEqualTo(student.metadata().input().withSize(32, 32).withResizeRatio(1.25));
    java.util.Set<String> bn = new java.util.HashSet<>(
        List.of(fixed.metadata().extra().get("batch_norm_reestimated").split(",")));
    assertThat(bn).isNotEmpty();
    int changed = 0;
    for (var e : student.graph().paramTable().entrySet()) {
      String layer = e.getKey().substring(0, e.getKey().lastIndexOf('_'));
      String param = e.getKey().substring(e.getKey().lastIndexOf('_') + 1);
      boolean mayChange = layer.equals(io.semisup.core.model.Architectures.OUTPUT)
          || (bn.contains(layer) && List.of("mean", "var", "log10stdev").contains(param));
      float[] was = e.getValue().dup().data().asFloat();
      float[] now = fixed.graph().paramTable().get(e.getKey()).dup().data().asFloat();
      if (mayChange) {
        changed += java.util.Arrays.equals(was, now) ? 0 : 1;
      } else {
        assertThat(now).as("%s is bit-identical", e.getKey()).isEqualTo(was);
      }
    }
    assertThat(changed).isGreaterThan(0);

    assertThat(new EvaluateStage().execute(ctx).skipped()).isFalse();
    JsonNode m = RunContext.json().readTree(ctx.readBytes(new org.apache.hadoop.fs.Path(ctx.stageDir(EvaluateStage.NAME), EvaluateStage.METRICS_JSON)));
    assertThat(m.get("fixres").get("input_size").asText()).isEqualTo("32x32");
    assertThat(m.get("fixres").get("top1").asDouble()).isGreaterThan(0.3);
    assertThat(m.get("student").get("input_size").asText()).isEqualTo("28x28");
    // Off again: every command skips it, and evaluate no longer reports it.
    assertThat(new FixresStage().execute(ctx()).skipped()).isTrue();
  }

  @Test
  @Order(8)
  void studentTrainsAtItsOwnResolutionWithTheCropAndItsModelScoresThere() throws Exception {
    List<String> settings = new java.util.ArrayList<>(List.of(smallSlice()));
    settings.addAll(List.of("student.input-size=20", "student.crop-min-area=0.35", "student.epochs=1",
        "model.test-resize-ratio=1.143", "force=true"));
    RunContext ctx = context(root, RUN, settings.toArray(new String[0]));
    assertThat(new StudentStage().execute(ctx).skipped()).isFalse();
    io.semisup.core.model.ModelBundle student = Models.load(ctx, StudentStage.NAME);
    assertThat(student.metadata().input().height()).isEqualTo(20);
    assertThat(student.metadata().input().width()).isEqualTo(20);
    assertThat(student.metadata().input().resizeRatio()).isEqualTo(1.143);
    assertThat(student.metadata().extra().get("augment")).contains("RandomResizedCrop(minArea=0.35, 20x20)");
    double[] acc = Accuracy.of(Scoring.score(ctx, Images.split(ctx, Tables.VAL).limit(100),
        Scoring.model(ctx, StudentStage.NAME), 50, 5));
    assertThat(acc[0]).isBetween(0.0, 1.0);
    assertThat(acc[1]).isGreaterThanOrEqualTo(acc[0]);
  }

  private static List<String> columns(org.apache.spark.sql.types.StructType schema) {
    return java.util.Arrays.stream(schema.fields())
        .map(f -> f.name() + " " + f.dataType().simpleString()).toList();
  }
}
