package io.semisup.jobs.stages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.core.UsageError;
import io.semisup.core.data.FashionMnist;
import io.semisup.core.model.Architectures;
import io.semisup.core.model.ModelMetadata;
import io.semisup.core.scoring.Int8Quantizer;
import io.semisup.core.scoring.OnnxExporter;
import io.semisup.core.testing.Prerequisites;
import io.semisup.core.train.TrainingConfig;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.tables.Tables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code score.precision=int8} end to end: the stage calibrates the INT8 teacher on the pool,
 * scores every image with it, stores it in the run and says so in its manifest; a changed
 * precision is refused on the committed stage, and scores of another precision are never reused
 * by a later run ({@code score.reuse-run}), while an INT8 run reusing an INT8 run takes its stored
 * model and its rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScorePrecisionTest extends SparkTestBase {

  @TempDir static Path root;
  @TempDir static Path files;
  static Path onnx;
  static Path metadata;

  private RunContext ctx(String run, String... more) {
    List<String> o = new ArrayList<>(List.of(
        "data.labelled-per-class=5",
        "data.unlabelled-limit=200",
        "data.val-limit=20",
        "score.top-p=3",
        "score.batch-size=32",
        "score.int8-calibration-images=64",
        "score.teacher-onnx=\"" + onnx + "\"",
        "score.teacher-metadata=\"" + metadata + "\""));
    if (!run.equals("int8")) {
      // The other runs score the same shards.
      o.addAll(List.of("base-run=int8", "shared-stages=[import-fashion-mnist, shard]"));
    }
    o.addAll(Arrays.asList(more));
    return context(root, run, o.toArray(String[]::new));
  }

  @BeforeAll
  void shardsAndTeacher() throws Exception {
    Prerequisites.fashionMnist();
    onnx = files.resolve("teacher.onnx");
    metadata = files.resolve("teacher.json");
    Files.write(onnx, new byte[0]);
    Files.writeString(metadata, "{}");
    RunContext ctx = ctx("int8");
    new ImportFashionMnistStage().execute(ctx);
    new ShardStage().execute(ctx);
    ComputationGraph g = Architectures.build("resnet-tiny", FashionMnist.INPUT_SPEC, 10,
        TrainingConfig.defaults().withSeed(3));
    Files.write(onnx, new OnnxExporter(FashionMnist.INPUT_SPEC).toBytes(g));
    Files.writeString(metadata, new ModelMetadata("users-teacher", "their-cnn",
        Classes.of(ctx("int8")), FashionMnist.INPUT_SPEC, 0, Map.of()).toJson());
  }

  private static Map<String, String> rows(RunContext ctx) {
    Map<String, String> m = new HashMap<>();
    for (Row r : Tables.SCORES.read(ctx).collectAsList()) {
      m.put(r.getAs("image_id"), r.getAs("classes").toString() + r.getAs("probs").toString());
    }
    return m;
  }

  @Test
  void int8ScoresEveryImageIsStoredAndNeverStandsForFp32() throws Exception {
    RunContext int8 = ctx("int8", "score.precision=int8");
    new ScoreStage().execute(int8);
    JsonNode m = int8.manifest(ScoreStage.NAME);
    assertThat(m.get("details").get("precision").asText()).isEqualTo("int8");
    assertThat(m.get("counts").get("scored").asLong() + m.get("counts").get("rejected").asLong())
        .isEqualTo(m.get("counts").get("read").asLong()).isGreaterThan(100);
    Path stored = root.resolve("int8").resolve(ScoreStage.NAME).resolve(ScorePrecision.FILE);
    assertThat(Int8Quantizer.isQuantized(Files.readAllBytes(stored))).isTrue();
    Map<String, String> int8Rows = rows(int8);

    // The committed stage with another precision: refused, naming the key.
    assertThatThrownBy(() -> new ScoreStage().execute(ctx("int8", "score.precision=fp32")))
        .isInstanceOf(UsageError.class).hasMessageContaining("score.precision");

    // A run reusing the INT8 run's scores in FP32 takes none of them.
    RunContext fp32 = ctx("fp32", "score.precision=fp32", "score.reuse-run=int8");
    new ScoreStage().execute(fp32);
    JsonNode f = fp32.manifest(ScoreStage.NAME);
    assertThat(f.get("details").get("precision").asText()).isEqualTo("fp32");
    assertThat(f.get("counts").get("reused").asLong()).isZero();
    assertThat(root.resolve("fp32").resolve(ScoreStage.NAME).resolve(ScorePrecision.FILE)).doesNotExist();
    Map<String, String> fp32Rows = rows(fp32);
    assertThat(fp32Rows.keySet()).isEqualTo(int8Rows.keySet());
    assertThat(fp32Rows).as("INT8 probabilities are not FP32's").isNotEqualTo(int8Rows);

    // An INT8 run reusing the INT8 run: same stored model, so every row is taken.
    RunContext again = ctx("int8-again", "score.precision=int8", "score.reuse-run=int8");
    new ScoreStage().execute(again);
    JsonNode a = again.manifest(ScoreStage.NAME);
    assertThat(a.get("counts").get("reused").asLong()).isEqualTo(int8Rows.size());
    assertThat(a.get("details").get(ScoreReuse.FINGERPRINT).asText())
        .isEqualTo(m.get("details").get(ScoreReuse.FINGERPRINT).asText())
        .isNotEqualTo(f.get("details").get(ScoreReuse.FINGERPRINT).asText());
    assertThat(rows(again)).isEqualTo(int8Rows);
  }

  @Test
  void autoIsInt8OnlyForTheRunsOwnLargeTeacherOnAnInt8CpuWithoutCuda() {
    var s = ctx("int8", "score.precision=auto").settings().score();
    long large = ScorePrecision.AUTO_MIN_MODEL_BYTES;
    assertThat(ScorePrecision.resolve(s, true, large)).as("a brought teacher needs int8 asked for").isEqualTo("fp32");
    assertThat(ScorePrecision.resolve(s, false, large))
        .isEqualTo(ScorePrecision.cpuHasInt8Units() ? "int8" : "fp32");
    assertThat(ScorePrecision.resolve(s, false, large - 1))
        .as("a small teacher is slower in INT8 (bench score: resnet-small 0.73-0.90x)").isEqualTo("fp32");
    assertThat(ScorePrecision.resolve(ctx("int8", "score.precision=int8").settings().score(), false, 1))
        .as("int8 asked for is int8 whatever the size").isEqualTo("int8");
    assertThat(ScorePrecision.resolve(
        ctx("int8", "score.precision=auto", "score.cuda=true").settings().score(), false, large)).isEqualTo("fp32");
    assertThat(ScorePrecision.resolve(ctx("int8", "score.precision=fp32").settings().score(), false, large))
        .isEqualTo("fp32");
    assertThatThrownBy(() -> ctx("int8", "score.precision=int8", "score.backend=dl4j",
        "score.teacher-onnx=\"\"", "score.teacher-metadata=\"\""))
        .isInstanceOf(UsageError.class).hasMessageContaining("score.precision");
  }
}
