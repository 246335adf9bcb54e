package io.semisup.jobs.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semisup.jobs.SparkTestBase;
import io.semisup.jobs.spark.TopKPerClass;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** bench select on small inputs full of ties: both methods agree, and the JSON line comes out. */
class BenchSelectTest extends SparkTestBase {

  @TempDir Path dir;

  private SelectBenchmark.Options small(int tieLevels) {
    return new SelectBenchmark.Options(
        4000, 30, 4, 25, 0, 64, 11, tieLevels, true, dir.resolve("data").toString(), dir.resolve("out").toString());
  }

  @Test
  void productAndBaselineSelectTheSameRowsDespiteTies() throws Exception {
    SelectBenchmark.Outcome out = SelectBenchmark.run(spark, small(10));
    assertThat(out.rowsMatch()).isTrue();
    // Scores on a grid of 11 values: most selected rows share their score with others.
    Dataset<Row> got = spark.read().parquet(dir.resolve("out/product").toString());
    long distinctScores = got.select("score").distinct().count();
    assertThat(distinctScores).isLessThanOrEqualTo(11);
    assertThat(out.figures().get("selected")).isEqualTo(got.count());
    assertThat((Long) out.figures().get("selected")).isGreaterThan(25L * 20);
    // Every class ranks 1..n without gaps, ties broken by image_id ascending.
    Dataset<Row> tiesOutOfOrder =
        got.as("a").join(got.as("b"), col("a.class").equalTo(col("b.class"))
                .and(col("a.rank").lt(col("b.rank")))
                .and(col("a.score").lt(col("b.score"))
                    .or(col("a.score").equalTo(col("b.score")).and(col("a.image_id").gt(col("b.image_id"))))));
    assertThat(tiesOutOfOrder.count()).isZero();
  }

  @Test
  void comparisonCatchesOneSwappedTie() {
    Dataset<Row> scores = SyntheticScores.generate(spark, new SyntheticScores.Spec(1000, 30, 4, 2, 10), 2);
    Dataset<Row> got = TopKPerClass.selectTopK(spark, scores, 30, 25, 4, 64).ranked().cache();
    Row last = got.filter(col("rank").equalTo(25)).orderBy("class").first();
    // One selected row replaced by another image: caught in both directions.
    Dataset<Row> tampered =
        got.withColumn("image_id",
            when(col("class").equalTo(last.getInt(0)).and(col("rank").equalTo(25)), lit("zzzz"))
                .otherwise(col("image_id")));
    assertThat(SelectBenchmark.differences(got, tampered)).containsExactly(1, 1);
    assertThat(SelectBenchmark.differences(got, got)).containsExactly(0, 0);
  }

  @Test
  void syntheticScoresDoNotDependOnPartitioning() {
    SyntheticScores.Spec spec = new SyntheticScores.Spec(3000, 50, 10, 5, 0);
    Dataset<Row> one = SyntheticScores.generate(spark, spec, 1);
    Dataset<Row> three = SyntheticScores.generate(spark, spec, 3);
    assertThat(SelectBenchmark.differences(one, three)).containsExactly(0, 0);
    assertThat(one.select("image_id").distinct().count()).isEqualTo(3000);
  }

  @Test
  void commandPrintsOneJsonObjectAsLastLine() throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      code = new CommandLine(new BenchSelect()).execute(
          "--images", "3000", "--classes", "20", "--top-p", "3", "--k", "15", "--bins", "32",
          "--tie-levels", "8", "--data-dir", dir.resolve("data").toString(), "--work-dir", dir.resolve("out").toString());
    } finally {
      System.setOut(stdout);
    }
    assertThat(code).isZero();
    String[] lines = captured.toString(StandardCharsets.UTF_8).strip().split("\n");
    JsonNode json = new ObjectMapper().readTree(lines[lines.length - 1]);
    assertThat(json.get("images").asLong()).isEqualTo(3000);
    assertThat(json.get("rows_match").asBoolean()).isTrue();
    for (String key : new String[] {"candidates_per_s", "baseline_candidates_per_s", "speedup", "shuffle_bytes", "baseline_shuffle_bytes"}) {
      assertThat(json.get(key).isNumber()).as(key).isTrue();
    }
    assertThat(json.get("shuffle_bytes").asLong()).isPositive();
  }
}
