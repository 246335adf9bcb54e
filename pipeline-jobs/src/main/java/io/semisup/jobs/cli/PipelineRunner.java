package io.semisup.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.semisup.core.UsageError;
import io.semisup.jobs.config.SemisupConfig;
import io.semisup.jobs.stages.EvaluateStage;
import io.semisup.jobs.stages.Rounds;
import io.semisup.jobs.stages.RunContext;
import io.semisup.jobs.stages.Stage;
import io.semisup.jobs.stages.StageGraph;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * Runs a chain of the standard stages for every round of a run and prints each round's results:
 * what {@code demo} (every stage, Fashion-MNIST) and {@code run} (every stage but the import, a
 * user's folders) share. Each round is planned whole before its first stage ({@link
 * StageGraph#plan}), so a changed setting stops the command before any work; committed stages
 * are reused, so an interrupted command resumes.
 */
final class PipelineRunner {

  private final List<String> stages;
  private final String command;

  /**
   * @param stages names of the stages to run, in graph order
   * @param command how the command is named in the run's lock and messages (e.g. {@code semisup run})
   */
  PipelineRunner(List<String> stages, String command) {
    this.stages = List.copyOf(stages);
    this.command = command;
  }

  /** Every round of {@code config} ({@code rounds}); returns the last round's context. */
  RunContext runRounds(SparkSession spark, SemisupConfig config) throws Exception {
    long t0 = System.nanoTime();
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
    return previous;
  }

  private RunContext runAll(RunContext ctx) {
    System.out.println("run: " + ctx.runDir());
    StageGraph graph = StageGraph.standard();
    graph.plan(ctx, stages);
    ctx.describedAs(command + " --run-id " + ctx.runId());
    for (String name : stages) {
      Stage stage = graph.get(name);
      Stage.Outcome outcome = stage.execute(ctx);
      String what = ctx.isShared(stage.name()) ? "shared from run " + ctx.baseRun()
          : outcome.skipped() ? "skipped: " + outcome.why() : "committed";
      System.out.printf("%-22s %s%n", stage.name(), what);
    }
    return ctx;
  }

  static JsonNode metrics(RunContext ctx) throws Exception {
    return RunContext.json().readTree(ctx.readBytes(new Path(ctx.stageDir(EvaluateStage.NAME), EvaluateStage.METRICS_JSON)));
  }

  private static void printResults(RunContext ctx, double seconds) throws Exception {
    Path file = new Path(ctx.stageDir(EvaluateStage.NAME), EvaluateStage.METRICS_JSON);
    JsonNode m = metrics(ctx);
    System.out.println();
    // Test top-1 is what a run reports; validation top-1 is what settings are chosen on.
    System.out.println("model                  top-1    top-5   validation top-1");
    for (String model : new String[] {"teacher", "student", "finetuned", "fixres"}) {
      JsonNode n = m.get(model);
      if (n == null) { // fixres: only with fixres.enabled
        continue;
      }
      JsonNode validation = n.get("validation_top1");
      System.out.printf("%-20s %6.2f%%  %6.2f%%   %s%n", model, 100 * n.get("top1").asDouble(),
          100 * n.get("top5").asDouble(), validation == null || validation.isNull() ? "(no validation split)"
              : String.format("%6.2f%%", 100 * validation.asDouble()));
    }
    JsonNode precision = m.get("pseudo_label_precision");
    System.out.println(precision == null || precision.isNull()
        ? "pseudo-label precision: not measured (no truth file)"
        : String.format("pseudo-label precision %.2f%%", 100 * precision.asDouble()));
    double gain = m.get("finetuned").get("top1").asDouble() - m.get("teacher").get("top1").asDouble();
    System.out.printf("gain of the fine-tuned student over the teacher: %+.2f points%n", 100 * gain);
    System.out.printf("wall time %.0f s; metrics: %s%n", seconds, file);
  }
}
