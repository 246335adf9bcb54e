package io.semisup.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semisup.core.data.FashionMnist;
import io.semisup.jobs.cli.SemisupCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** bench enorm at tiny settings: the JSON line has its shape, and its rows come from real runs. */
class BenchEnormTest {

  @Test
  void tinyRunPrintsOneRowPerNetWithRealAccuracies() throws Exception {
    assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "dataset-fashion-mnist not installed");
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int code;
    try (PrintStream p = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
      System.setOut(p);
      code = SemisupCli.commandLine().execute("bench", "enorm", "--labels", "100", "--batches", "8",
          "--epochs", "1", "--seeds", "42,1", "--val", "200", "--test-images", "300", "--cs", "1.2",
          "--bn-arch", "resnet-tiny", "--plain-arch", "resnet-tiny-nobn",
          "--fashion-mnist-dir", FashionMnist.DEFAULT_DIR.toString());
    } finally {
      System.setOut(stdout);
    }
    String[] lines = captured.toString(StandardCharsets.UTF_8).trim().split("\n");
    assertThat(code).as(String.join("\n", lines)).isZero();
    JsonNode json = new ObjectMapper().readTree(lines[lines.length - 1]);
    assertThat(json.get("seeds").asInt()).isEqualTo(2);
    JsonNode rows = json.get("rows");
    assertThat(rows).hasSize(4); // bn, plain, enorm c = 1, enorm at the best other c
    Set<String> nets = new HashSet<>();
    Set<Double> top1s = new HashSet<>();
    for (JsonNode r : rows) {
      for (String key : new String[] {"batch", "labels", "net", "c", "top1", "top1_sd", "step_ms"}) {
        assertThat(r.has(key)).as(key + " in " + r).isTrue();
      }
      assertThat(r.get("batch").asInt()).isEqualTo(8);
      assertThat(r.get("labels").asInt()).isEqualTo(100);
      assertThat(r.get("top1").asDouble()).as(r.toString()).isGreaterThan(0).isLessThanOrEqualTo(1);
      assertThat(r.get("top1_runs")).hasSize(2);
      assertThat(r.get("step_ms").asDouble()).isPositive();
      nets.add(r.get("net").asText());
      top1s.add(r.get("top1").asDouble());
    }
    assertThat(nets).containsExactlyInAnyOrder("bn", "plain", "enorm");
    assertThat(rows.get(2).get("c").asDouble()).isEqualTo(1.0);
    assertThat(rows.get(3).get("c").asDouble()).isEqualTo(1.2);
    assertThat(top1s).as("different nets, different results").hasSizeGreaterThan(1);
    JsonNode timing = json.get("timing").get("8");
    assertThat(timing.get("cycle_ms").asDouble()).isPositive();
    assertThat(timing.get("step_enorm_ms").asDouble()).isPositive();
    assertThat(timing.get("cycle_vs_step").asDouble()).isPositive();
  }
}
