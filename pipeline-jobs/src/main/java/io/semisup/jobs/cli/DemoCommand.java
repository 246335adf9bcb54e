package io.semisup.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.SparkSessions;
import io.semisup.jobs.stages.EvaluateStage;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.StageGraph;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Runs the whole chain on the embedded default (Fashion-MNIST, local Spark) and prints results. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run every stage on Fashion-MNIST (Debian package dataset-fashion-mnist) with local Spark:",
      "100 labelled images per class, 59,000 unlabelled, evaluation on the 10k test set.",
      "Committed stages of the same --run-id are skipped, so an interrupted demo resumes."
    })
final class DemoCommand implements Callable<Integer> {

  @Mixin RunOptions options;

  @Override
  public Integer call() throws Exception {
    SemisupConfig config = options.load();
    long t0 = System.nanoTime();
    SparkSession spark = SparkSessions.create(config);
    try {
      RunContext ctx = new RunContext(spark, config);
      System.out.println("run: " + ctx.runDir());
      for (Stage stage : StageGraph.standard().all()) {
        Stage.Outcome outcome = stage.execute(ctx);
        String what = ctx.isShared(stage.name()) ? "shared from run " + ctx.baseRun()
            : outcome.skipped() ? "skipped (already committed)" : "committed";
        System.out.printf("%-22s %s%n", stage.name(), what);
      }
      printResults(ctx, (System.nanoTime() - t0) / 1e9);
      return 0;
    } finally {
      spark.stop();
    }
  }

  private static void printResults(RunContext ctx, double seconds) throws Exception {
    Path file = new Path(ctx.stageDir("evaluate"), EvaluateStage.METRICS_JSON);
    JsonNode m = RunContext.json().readTree(ctx.readBytes(file));
    System.out.println();
    System.out.println("model                  top-1    top-5");
    for (String model : new String[] {"teacher", "student", "finetuned"}) {
      JsonNode n = m.get(model);
      System.out.printf(
          "%-20s %6.2f%%  %6.2f%%%n", model, 100 * n.get("top1").asDouble(), 100 * n.get("top5").asDouble());
    }
    System.out.printf("pseudo-label precision %.2f%%%n", 100 * m.get("pseudo_label_precision").asDouble());
    double gain = m.get("finetuned").get("top1").asDouble() - m.get("teacher").get("top1").asDouble();
    System.out.printf("gain of the fine-tuned student over the teacher: %+.2f points%n", 100 * gain);
    System.out.printf("wall time %.0f s; metrics: %s%n", seconds, file);
  }
}
