package io.semisup.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semisup.jobs.cli.SemisupCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** bench decode at tiny settings: its JSON line has every figure, and model-ready copies are smaller. */
class BenchDecodeTest {

  @Test
  void tinyRunReportsEveryFigure() throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int code;
    try (PrintStream p = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
      System.setOut(p);
      code = SemisupCli.commandLine().execute("bench", "decode", "--images", "2", "--large-images", "1",
          "--passes", "1");
    } finally {
      System.setOut(stdout);
    }
    String[] lines = captured.toString(StandardCharsets.UTF_8).trim().split("\n");
    assertThat(code).as(String.join("\n", lines)).isZero();
    JsonNode json = new ObjectMapper().readTree(lines[lines.length - 1]);
    for (String key : new String[] {"decode_core_ms", "decode_core_ms_imageio", "decode_core_ms_opencv",
        "decode_core_ms_large", "decode_core_ms_imageio_large", "decode_core_ms_max_side",
        "shard_check_core_ms", "shard_check_core_ms_imageio"}) {
      assertThat(json.get(key).asDouble()).as(key).isPositive();
    }
    assertThat(json.get("stored_bytes_per_image").asLong()).isLessThan(json.get("avg_jpeg_bytes").asLong());
    assertThat(json.get("stored_bytes_per_image_large").asLong())
        .isLessThan(json.get("avg_jpeg_bytes_large").asLong());
  }
}
