package io.semisup.jobs.cli;

import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.SparkSessions;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.StageGraph;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Runs the whole chain on the embedded default (Fashion-MNIST, local Spark) and prints results. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run every stage on Fashion-MNIST with local Spark.",
      "Data: Debian's dataset-fashion-mnist, 100 labelled images per class, 59,000 unlabelled,"
          + " evaluation on the 10k test set.",
      "Committed stages of the same --run-id are skipped, so an interrupted demo resumes.",
      "With rounds > 1 (--set rounds=N, or --preset best) round r runs as <run-id>.r<r>, taught by",
      "round r-1's fine-tuned student."
    })
final class DemoCommand implements Callable<Integer> {

  @Mixin RunOptions options;

  @Override
  public Integer call() throws Exception {
    options.requireNoRound("demo");
    SemisupConfig config = options.load();
    List<String> stages = StageGraph.standard().all().stream().map(Stage::name).toList();
    config.validateFor(stages);
    SparkSession spark = SparkSessions.create(config);
    try {
      new PipelineRunner(stages, "semisup demo").runRounds(spark, config);
      return 0;
    } finally {
      spark.stop();
    }
  }
}
