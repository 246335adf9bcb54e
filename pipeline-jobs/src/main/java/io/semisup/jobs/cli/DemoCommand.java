package io.semisup.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.core.UsageError;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.spark.SparkSessions;
import io.semisup.jobs.stages.EvaluateStage;
import io.semisup.jobs.stages.Rounds;
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
    config.validateFor(StageGraph.standard().all().stream().map(Stage::name).toList());
    long t0 = System.nanoTime();
    SparkSession spark = SparkSessions.create(config);
    try {
      int rounds = config.settings().run().rounds();
      if (rounds < 1) {
        throw new UsageError("Cannot run rounds=" + rounds + " rounds of self-training: use 1 or more.");
      }
      RunContext first = runAll(new RunContext(spark, config));
      printResults(first, (System.nanoTime() - t0) / 1e9);
      RunContext previous = first;
      for (int r = 2; r <= rounds; r++) {
        System.out.printf("%nround %d of %d: the fine-tuned student of run %s is the teacher%n", r, rounds, previous.runId());
        previous = runAll(new RunContext(spark, Rounds.configFor(first.config(), r)));
        printResults(previous, (System.nanoTime() - t0) / 1e9);
      }
      if (rounds > 1) {
        double start = metrics(first).get("teacher").get("top1").asDouble();
        double end = metrics(previous).get("finetuned").get("top1").asDouble();
        System.out.printf("%n%d rounds: teacher of round 1 %.2f%% -> fine-tuned student of round %d %.2f%% (%+.2f points)%n",
            rounds, 100 * start, rounds, 100 * end, 100 * (end - start));
      }
      return 0;
    } finally {
      spark.stop();
    }
  }

  private static RunContext runAll(RunContext ctx) {
    System.out.println("run: " + ctx.runDir());
    StageGraph graph = StageGraph.standard();
    graph.plan(ctx, graph.all().stream().map(Stage::name).toList());
    ctx.describedAs("semisup demo --run-id " + ctx.runId());
    for (Stage stage : graph.all()) {
      Stage.Outcome outcome = stage.execute(ctx);
      String what = ctx.isShared(stage.name()) ? "shared from run " + ctx.baseRun()
          : outcome.skipped() ? "skipped (already committed)" : "committed";
      System.out.printf("%-22s %s%n", stage.name(), what);
    }
    return ctx;
  }

  private static JsonNode metrics(RunContext ctx) throws Exception {
    return RunContext.json().readTree(ctx.readBytes(new Path(ctx.stageDir("evaluate"), EvaluateStage.METRICS_JSON)));
  }

  private static void printResults(RunContext ctx, double seconds) throws Exception {
    Path file = new Path(ctx.stageDir("evaluate"), EvaluateStage.METRICS_JSON);
    JsonNode m = metrics(ctx);
    System.out.println();
    System.out.println("model                  top-1    top-5");
    for (String model : new String[] {"teacher", "student", "finetuned", "fixres"}) {
      JsonNode n = m.get(model);
      if (n == null) { // fixres: only with fixres.enabled
        continue;
      }
      System.out.printf(
          "%-20s %6.2f%%  %6.2f%%%n", model, 100 * n.get("top1").asDouble(), 100 * n.get("top5").asDouble());
    }
    System.out.printf("pseudo-label precision %.2f%%%n", 100 * m.get("pseudo_label_precision").asDouble());
    double gain = m.get("finetuned").get("top1").asDouble() - m.get("teacher").get("top1").asDouble();
    System.out.printf("gain of the fine-tuned student over the teacher: %+.2f points%n", 100 * gain);
    System.out.printf("wall time %.0f s; metrics: %s%n", seconds, file);
  }
}
