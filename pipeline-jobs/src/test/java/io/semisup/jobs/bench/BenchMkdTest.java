package io.semisup.jobs.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semisup.core.testing.Prerequisites;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** bench mkd on a few photos: the JSON line comes out whole and MKD beats raw pixels. */
class BenchMkdTest {

  @Test
  void commandPrintsTheJsonLineAndMkdBeatsPixels() throws Exception {
    Prerequisites.require(Files.exists(MkdPatchSet.OPENCV_DATA.resolve("graf1.png")),
        "opencv-doc's example photos", "opencv-doc");
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      code = new CommandLine(new BenchMkd())
          .execute("--max-images", "12", "--patches-per-image", "120", "--seed", "3");
    } finally {
      System.setOut(stdout);
    }
    String[] lines = captured.toString(StandardCharsets.UTF_8).trim().split("\n");
    System.out.println(String.join("\n", lines));
    assertThat(code).isZero();
    JsonNode json = new ObjectMapper().readTree(lines[lines.length - 1]);
    for (String key : List.of("patches", "mkd_map", "mkd_unwhitened_map", "sift_map", "pixels_map",
        "mkd_patches_per_s", "sift_patches_per_s", "graffiti_inlier_ratio")) {
      assertThat(json.has(key)).as(key).isTrue();
    }
    assertThat(json.get("patches").asInt()).isGreaterThan(100);
    assertThat(json.get("mkd_map").asDouble()).isGreaterThan(json.get("pixels_map").asDouble());
    assertThat(json.get("mkd_map").asDouble()).isBetween(0.0, 1.0);
    assertThat(json.get("graffiti_inlier_ratio").asDouble()).isGreaterThan(0.2);
  }

  @Test
  void matchingApIsOneForPerfectDescriptorsAndCountsAMissAtItsRank() {
    int n = 20;
    int dims = 8;
    float[] a = new float[n * dims];
    Random random = new Random(5);
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) random.nextGaussian();
    }
    assertThat(BenchMkd.matchingAp(a, a.clone(), n, dims)).isEqualTo(1.0);
    // Patch 0's counterpart replaced by something far away: query 0's nearest neighbour is wrong
    // and the farthest of all, so the 19 right ones come first: AP = 19 / 20.
    float[] b = a.clone();
    for (int k = 0; k < dims; k++) {
      b[k] = 100;
    }
    assertThat(BenchMkd.matchingAp(a, b, n, dims)).isCloseTo(0.95, within(1e-12));
  }

  @Test
  void scenesKeepStereoAndSequencePairsTogether() {
    assertThat(MkdPatchSet.scene(java.nio.file.Path.of("left01.jpg")))
        .isEqualTo(MkdPatchSet.scene(java.nio.file.Path.of("right01.jpg")));
    assertThat(MkdPatchSet.scene(java.nio.file.Path.of("aloeL.jpg")))
        .isEqualTo(MkdPatchSet.scene(java.nio.file.Path.of("aloeR.jpg")));
    assertThat(MkdPatchSet.scene(java.nio.file.Path.of("aero1.jpg")))
        .isEqualTo(MkdPatchSet.scene(java.nio.file.Path.of("aero3.jpg")));
    assertThat(MkdPatchSet.scene(java.nio.file.Path.of("fruits.jpg")))
        .isNotEqualTo(MkdPatchSet.scene(java.nio.file.Path.of("baboon.jpg")));
  }
}
