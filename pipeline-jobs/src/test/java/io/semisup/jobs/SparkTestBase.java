package io.semisup.jobs;

import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.SparkSessions;
import io.semisup.jobs.stages.RunContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** One real local[2] Spark session per test class, as the pipeline uses it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class SparkTestBase {

  protected SparkSession spark;

  @BeforeAll
  void startSpark() {
    spark = SparkSessions.create(SemisupConfig.load("local", null, List.of()));
  }

  @AfterAll
  void stopSpark() {
    if (spark != null) {
      spark.stop();
    }
  }

  /** A run context under {@code root} with the given overrides on top of the defaults. */
  protected RunContext context(Path root, String runId, String... overrides) {
    // Later overrides win: the caller's (e.g. an hdfs:// root) over these.
    List<String> all = new ArrayList<>(List.of("root=\"" + root + "\"", "run-id=" + runId));
    all.addAll(Arrays.asList(overrides));
    return new RunContext(spark, SemisupConfig.load("local", null, all));
  }

  /** Settings that make the whole chain run in about a minute on 2 cores, on real images. */
  protected static String[] smallSlice() {
    return new String[] {
      "data.labelled-per-class=20",
      "data.unlabelled-limit=1200",
      "data.validation-size=300",
      "data.val-limit=500",
      "teacher.epochs=8",
      "teacher.batch-size=16",
      "student.epochs=2",
      "student.labelled-repeat=1",
      "student.batch-size=32",
      "finetune.epochs=2",
      "finetune.batch-size=16",
      "select.k=60",
      "select.p=2",
      "score.top-p=3",
    };
  }
}
