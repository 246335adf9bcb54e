package io.semisup.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.core.testing.Prerequisites;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo with two rounds of self-training on a small real run: round 2 is its own run that
 * shares round 1's data, and its teacher is exactly round 1's fine-tuned student (with the
 * default fine-tune of 0 epochs, the student itself).
 */
class DemoCommandTest {

  @TempDir Path root;

  @Test
  void secondRoundIsTaughtByTheFirstRoundsFineTunedStudent() throws Exception {
    Prerequisites.fashionMnist();
    List<String> args = new ArrayList<>(List.of("demo", "--root", root.toString(), "--run-id", "d"));
    for (String s : new String[] {
        "rounds=2", "data.labelled-per-class=20", "data.unlabelled-limit=400", "data.validation-size=200", "data.val-limit=200",
        "teacher.epochs=4", "teacher.batch-size=16", "student.epochs=1", "student.labelled-repeat=1", "student.batch-size=32",
        "finetune.batch-size=16", "select.k=30", "score.top-p=3"}) {
      args.add("--set");
      args.add(s);
    }
    PrintStream old = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      code = SemisupCli.commandLine().execute(args.toArray(new String[0]));
    } finally {
      System.setOut(old);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    assertThat(code).as(out).isZero();

    Path r1 = root.resolve("d");
    Path r2 = root.resolve("d.r2");
    assertThat(r2.resolve("import-fashion-mnist")).doesNotExist();
    assertThat(r2.resolve("shard")).doesNotExist();
    assertThat(r2.resolve("score/_SUCCESS")).exists();
    ObjectMapper json = new ObjectMapper();
    JsonNode m1 = json.readTree(r1.resolve("evaluate/metrics.json").toFile());
    JsonNode m2 = json.readTree(r2.resolve("evaluate/metrics.json").toFile());
    assertThat(m2.get("teacher").get("top1").asDouble())
        .isEqualTo(m1.get("finetuned").get("top1").asDouble());
    // The default fine-tune (0 epochs) passes the student on as is.
    for (JsonNode m : List.of(m1, m2)) {
      assertThat(m.get("finetuned").get("top1").asDouble()).isEqualTo(m.get("student").get("top1").asDouble());
      assertThat(m.get("finetuned").get("top5").asDouble()).isEqualTo(m.get("student").get("top5").asDouble());
    }
    // Round 2 scored the pool again with the new teacher: its selection is its own.
    assertThat(json.readTree(r2.resolve("select/manifest.json").toFile()).get("counts")
        .get("selected").asLong()).isPositive();
    assertThat(out).contains("round 2 of 2").contains("2 rounds: teacher of round 1");
  }

  @Test
  void presetBestIsLayeredUnderOverridesAndUnknownPresetsAreNamed() {
    SemisupConfig best = SemisupConfig.load("local", "best", null, List.of());
    assertThat(best.getInt("rounds")).isGreaterThan(1);
    SemisupConfig overridden = SemisupConfig.load("local", "best", null, List.of("rounds=1"));
    assertThat(overridden.getInt("rounds")).isEqualTo(1);
    assertThatThrownBy(() -> SemisupConfig.load("local", "fastest", null, List.of()))
        .hasMessageContaining("preset-fastest.conf").hasMessageContaining("best");
  }
}
