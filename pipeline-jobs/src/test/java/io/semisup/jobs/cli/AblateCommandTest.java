package io.semisup.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semisup.core.testing.Prerequisites;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small real ablation (two K values, the recipe axis, two rounds, a ceiling with more labels) through the
 * CLI: cells share the seed's teacher and scoring, equal settings share one run, the table's
 * numbers are the runs' metrics, and the charts are real PNGs.
 */
class AblateCommandTest {

  @TempDir Path root;

  @Test
  void smallGridSharesTheTeacherAndWritesTableAndCharts() throws Exception {
    Prerequisites.fashionMnist();
    List<String> args = new ArrayList<>(List.of("ablate", "--root", root.toString(), "--run-id", "ab",
        "--axes", "k,recipe,pool,mode,rounds,teacher,cells", "--seeds", "1"));
    for (String s : new String[] {
        "data.labelled-per-class=20", "data.unlabelled-limit=400", "data.validation-size=200", "data.val-limit=200",
        "teacher.epochs=4", "teacher.batch-size=16", "student.epochs=1", "student.labelled-repeat=1", "student.batch-size=32",
        "ablate.finetune-epochs=1", "finetune.batch-size=16", "select.k=40", "score.top-p=3",
        "ablate.k-values=[20,40]", "ablate.pool-fractions=[0.5,1.0]", "ablate.rounds-values=[1,2]",
        "ablate.cells=[\"student.epochs=2\", \"select.k=40\", \"teacher.epochs=3\", \"student.epochs=2; rounds=2\"]",
        "ablate.teacher-epochs-values=[4,2]", "ablate.teacher-cells=[\"teacher.epochs=2; teacher.augment-erase=0.5\"]",
        "ablate.ceiling-set=[\"data.labelled-per-class=40\"]"}) {
      args.add("--set");
      args.add(s);
    }
    int code = SemisupCli.commandLine().execute(args.toArray(new String[0]));
    assertThat(code).isZero();

    Path dir = root.resolve("ab");
    List<String> lines = Files.readAllLines(dir.resolve("runs.csv"));
    Map<String, String[]> byLabel = new HashMap<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)");
      byLabel.put(f[1].replace("\"", ""), f);
    }
    assertThat(byLabel).containsKeys("K=20", "K=40", "pseudo-labels, then fine-tuned",
        "pseudo-labels, not fine-tuned", "pseudo + labelled together, not fine-tuned",
        "pseudo + labelled, then fine-tuned");
    // K=40 is the base configuration: it is the seed's base run, not a copy of it.
    assertThat(byLabel.get("K=40")[4]).isEqualTo("ab-s1");
    // The pipeline does not fine-tune by default: the recipe axis's fine-tuned cells are their
    // own run, and its student is also the "not fine-tuned" cell.
    String together = byLabel.get("pseudo + labelled, then fine-tuned")[4];
    assertThat(together).isNotEqualTo("ab-s1");
    assertThat(byLabel.get("pseudo + labelled together, not fine-tuned")[4]).isEqualTo(together);
    String k20 = byLabel.get("K=20")[4];
    assertThat(k20).isNotEqualTo("ab-s1");
    // Fine-tuned and not fine-tuned on pseudo-labels alone are two models of one run.
    assertThat(byLabel.get("pseudo-labels, not fine-tuned")[4])
        .isEqualTo(byLabel.get("pseudo-labels, then fine-tuned")[4]);

    // Cells borrow the teacher and the scores: nothing of them is written again.
    Path cellRun = root.resolve(k20);
    assertThat(cellRun.resolve("teacher")).doesNotExist();
    assertThat(cellRun.resolve("score")).doesNotExist();
    assertThat(cellRun.resolve("select/_SUCCESS")).exists();
    ObjectMapper json = new ObjectMapper();
    JsonNode cellMetrics = json.readTree(cellRun.resolve("evaluate/metrics.json").toFile());
    JsonNode baseMetrics = json.readTree(root.resolve("ab-s1/evaluate/metrics.json").toFile());
    assertThat(cellMetrics.get("teacher").get("top1").asDouble())
        .isEqualTo(baseMetrics.get("teacher").get("top1").asDouble());
    assertThat(Double.parseDouble(byLabel.get("K=20")[5]))
        .isCloseTo(cellMetrics.get("finetuned").get("top1").asDouble(), org.assertj.core.data.Offset.offset(1e-4));
    JsonNode togetherMetrics = json.readTree(root.resolve(together).resolve("evaluate/metrics.json").toFile());
    assertThat(Double.parseDouble(byLabel.get("pseudo + labelled together, not fine-tuned")[5]))
        .isCloseTo(togetherMetrics.get("student").get("top1").asDouble(), org.assertj.core.data.Offset.offset(1e-4));
    assertThat(Double.parseDouble(byLabel.get("pseudo + labelled, then fine-tuned")[5]))
        .isCloseTo(togetherMetrics.get("finetuned").get("top1").asDouble(), org.assertj.core.data.Offset.offset(1e-4));
    // Without fine-tuning, the "fine-tuned" model of a cell is its student as is.
    assertThat(cellMetrics.get("finetuned").get("top1").asDouble())
        .isEqualTo(cellMetrics.get("student").get("top1").asDouble());
    // K=20 selects fewer images than K=40.
    JsonNode cellSelect = json.readTree(cellRun.resolve("select/manifest.json").toFile());
    JsonNode baseSelect = json.readTree(root.resolve("ab-s1/select/manifest.json").toFile());
    assertThat(cellSelect.get("counts").get("selected").asLong())
        .isLessThan(baseSelect.get("counts").get("selected").asLong());

    // Half the pool: selection sees about half of the scored images, from the same scores.
    String half = byLabel.get("50% of pool")[4];
    JsonNode halfSelect = json.readTree(root.resolve(half).resolve("select/manifest.json").toFile());
    long all = baseSelect.get("counts").get("scored_images").asLong();
    assertThat(halfSelect.get("counts").get("scored_images").asLong()).isBetween(all / 4, 3 * all / 4);
    assertThat(byLabel.get("100% of pool")[4]).isEqualTo("ab-s1");

    // The global threshold keeps K x classes (image, class) pairs whatever their class; balanced
    // is the base run.
    assertThat(byLabel.get("balanced: top-K per class")[4]).isEqualTo("ab-s1");
    String global = byLabel.get("global threshold, same number of images")[4];
    JsonNode globalSelect = json.readTree(root.resolve(global).resolve("select/manifest.json").toFile());
    assertThat(globalSelect.get("details").get("mode").asText()).isEqualTo("threshold");
    assertThat(globalSelect.get("counts").get("selected").asLong())
        .isEqualTo(Math.min(40L * 10, globalSelect.get("counts").get("candidates").asLong()));

    // One round is the base run; round 2 is the run demo would write, taught by round 1's
    // fine-tuned student, and its cell pays for both rounds.
    String[] round1 = byLabel.get("rounds=1");
    String[] round2 = byLabel.get("rounds=2");
    assertThat(round1[4]).isEqualTo("ab-s1");
    assertThat(round2[4]).isEqualTo("ab-s1.r2");
    JsonNode round2Metrics = json.readTree(root.resolve("ab-s1.r2/evaluate/metrics.json").toFile());
    assertThat(round2Metrics.get("teacher").get("top1").asDouble())
        .isCloseTo(baseMetrics.get("finetuned").get("top1").asDouble(), org.assertj.core.data.Offset.offset(1e-9));
    assertThat(Double.parseDouble(round2[5]))
        .isCloseTo(round2Metrics.get("finetuned").get("top1").asDouble(), org.assertj.core.data.Offset.offset(1e-4));
    assertThat(Double.parseDouble(round2[8])).isGreaterThan(Double.parseDouble(round1[8]));

    // A cells-axis cell is a run of its own overrides; one that changes nothing is the base run.
    assertThat(byLabel.get("select.k=40")[4]).isEqualTo("ab-s1");
    String epochs2 = byLabel.get("student.epochs=2")[4];
    assertThat(epochs2).isEqualTo("ab-s1.cells-student.epochs-2");
    assertThat(json.readTree(root.resolve(epochs2).resolve("student/manifest.json").toFile())
        .get("settings").get("student.epochs").asText()).isEqualTo("2");

    // A cell with rounds starts from the run of the same cell without them.
    assertThat(byLabel.get("student.epochs=2; rounds=2")[4]).isEqualTo(epochs2 + ".r2");

    // A cell changing the teacher's settings trains its own teacher and scores the pool with it.
    Path ownTeacher = root.resolve(byLabel.get("teacher.epochs=3")[4]);
    assertThat(json.readTree(ownTeacher.resolve("teacher/manifest.json").toFile())
        .get("settings").get("teacher.epochs").asText()).isEqualTo("3");
    assertThat(ownTeacher.resolve("score/_SUCCESS")).exists();
    assertThat(ownTeacher.resolve("shard")).doesNotExist();

    // The teacher axis trains the teacher alone: its base value is the base run's teacher.
    assertThat(byLabel.get("teacher.epochs=4")[4]).isEqualTo("ab-s1");
    assertThat(Double.parseDouble(byLabel.get("teacher.epochs=4")[5]))
        .isCloseTo(baseMetrics.get("teacher").get("top1").asDouble(), org.assertj.core.data.Offset.offset(1e-4));
    Path shortTeacher = root.resolve(byLabel.get("teacher.epochs=2")[4]);
    assertThat(shortTeacher.resolve("teacher/_SUCCESS")).exists();
    assertThat(shortTeacher.resolve("student")).doesNotExist();
    assertThat(Double.parseDouble(byLabel.get("teacher.epochs=2")[5])).isCloseTo(
        json.readTree(shortTeacher.resolve("teacher.json").toFile()).get("top1").asDouble(),
        org.assertj.core.data.Offset.offset(1e-4));
    // A teacher cell of any lever is its own teacher-only run, trained with its settings.
    Path erasingTeacher = root.resolve(byLabel.get("teacher.epochs=2; teacher.augment-erase=0.5")[4]);
    assertThat(json.readTree(erasingTeacher.resolve("teacher/manifest.json").toFile())
        .get("settings").get("teacher.augment-erase").asText()).isEqualTo("0.5");
    assertThat(erasingTeacher.resolve("student")).doesNotExist();

    // The ceiling is a teacher trained on more labels, with the gap measured against it.
    double ceiling = json.readTree(root.resolve("ab-ceiling-s1/ceiling.json").toFile()).get("top1").asDouble();
    List<String> agg = Files.readAllLines(dir.resolve("results.csv"));
    assertThat(agg.get(1)).startsWith("reference,teacher");
    assertThat(agg.get(2)).startsWith("reference,ceiling");
    assertThat(Double.parseDouble(agg.get(2).split(",")[4])).isCloseTo(ceiling, org.assertj.core.data.Offset.offset(1e-4));
    String md = Files.readString(dir.resolve("results.md"));
    assertThat(md).contains("| k | ").contains("gap closed").contains("Chosen on validation: ");
    // The choice is made on validation: the chosen cell has the highest validation mean.
    JsonNode chosen = json.readTree(dir.resolve("chosen.json").toFile());
    assertThat(chosen.get("chosen_on").asText()).isEqualTo("validation");
    double best = -1;
    for (String line : agg.subList(3, agg.size())) {
      String[] f = line.split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)");
      best = Math.max(best, Double.parseDouble(f[9]));
    }
    assertThat(chosen.get("validation_top1").asDouble()).isCloseTo(best, org.assertj.core.data.Offset.offset(1e-4));
    assertThat(cellMetrics.get("finetuned").get("validation_top1").asDouble()).isBetween(0.0, 1.0);
    assertThat(json.readTree(root.resolve("ab-ceiling-s1/ceiling.json").toFile()).get("validation_top1").asDouble())
        .isBetween(0.0, 1.0);

    for (String png : List.of("k.png", "recipe.png", "pool.png", "mode.png", "rounds.png", "teacher.png", "cells.png")) {
      BufferedImage img = ImageIO.read(dir.resolve(png).toFile());
      assertThat(img).as(png).isNotNull();
      assertThat(img.getWidth()).isEqualTo(800);
    }
  }
}
