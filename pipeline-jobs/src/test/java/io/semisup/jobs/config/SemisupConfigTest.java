package io.semisup.jobs.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SemisupConfigTest {

  @Test
  void defaultsLoadAndOverridesWin(@TempDir Path dir) throws Exception {
    File user = dir.resolve("user.conf").toFile();
    Files.writeString(user.toPath(), "semisup.select.k = 123\nsemisup.select.p = 3\n");
    SemisupConfig c = SemisupConfig.load("local", user, List.of("select.p=5", "semisup.seed=7"));
    assertThat(c.getInt("select.k")).isEqualTo(123);
    assertThat(c.getInt("select.p")).isEqualTo(5);
    assertThat(c.getLong("seed")).isEqualTo(7);
    assertThat(c.getString("spark.master")).isEqualTo("local[2]");
    // Training sections inherit train-defaults and override some keys.
    assertThat(c.getInt("finetune.batch-size")).isEqualTo(c.getInt("train-defaults.batch-size"));
    assertThat(c.getDouble("finetune.learning-rate")).isNotEqualTo(c.getDouble("train-defaults.learning-rate"));
  }

  @Test
  void theLastOverrideOfAKeyWins() {
    SemisupConfig c = SemisupConfig.load("local", null,
        List.of("student.label-smoothing=0.1", "select.k=7", "student.label-smoothing=0.0"));
    assertThat(c.getDouble("student.label-smoothing")).isEqualTo(0.0);
    assertThat(c.getInt("select.k")).isEqualTo(7);
  }

  @Test
  void urisNeedNoQuotes() {
    SemisupConfig c = SemisupConfig.load("local", null, List.of("data.train-dir=hdfs://nn:8020/data/train", "root=file:///tmp/runs"));
    assertThat(c.getString("data.train-dir")).isEqualTo("hdfs://nn:8020/data/train");
    assertThat(c.getString("root")).isEqualTo("file:///tmp/runs");
  }

  @Test
  void unknownKeyIsRejectedBeforeAnyWork() {
    assertThatThrownBy(() -> SemisupConfig.load("local", null, List.of("select.kk=3")))
        .isInstanceOf(io.semisup.core.UsageError.class)
        .hasMessageContaining("unknown key select.kk")
        .hasMessageContaining("did you mean select.k?")
        .hasMessageContaining("defaults.conf");
  }

  @Test
  void sparkConfIsFreeForm() {
    SemisupConfig c = SemisupConfig.load("local", null, List.of("spark.conf.\"spark.foo.bar\"=1"));
    assertThat(c.getConfig("spark.conf").hasPath("\"spark.foo.bar\"")).isTrue();
  }

  @Test
  void unknownEnvironmentAndMissingFileAreClearErrors() {
    assertThatThrownBy(() -> SemisupConfig.load("moon", null, List.of()))
        .hasMessageContaining("moon.conf");
    assertThatThrownBy(() -> SemisupConfig.load("local", new File("/nonexistent.conf"), List.of()))
        .hasMessageContaining("/nonexistent.conf");
    assertThatThrownBy(() -> SemisupConfig.load("local", null, List.of("novalue")))
        .hasMessageContaining("key=value");
  }

  @Test
  void yarnEnvironmentLoads() {
    SemisupConfig c = SemisupConfig.load("yarn", null, List.of());
    assertThat(c.getString("root")).startsWith("hdfs://");
    assertThat(c.getString("spark.conf.\"spark.executor.memoryOverhead\"")).isEqualTo("6g"); // conf/yarn.conf, the one place for YARN memory
  }

  @Test
  void hashChangesWithSettings() {
    SemisupConfig a = SemisupConfig.load("local", null, List.of());
    SemisupConfig b = SemisupConfig.load("local", null, List.of("select.k=10"));
    assertThat(a.hash("select")).isNotEqualTo(b.hash("select"));
    assertThat(a.hash("teacher")).isEqualTo(b.hash("teacher"));
  }
}
