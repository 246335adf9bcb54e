package io.semisup.jobs.stages;

import io.semisup.jobs.config.RunSettings;
import io.semisup.jobs.config.SemisupConfig;
import java.util.List;
import org.apache.hadoop.fs.Path;

/**
 * Iterated self-training as configuration: round r &gt; 1 of run {@code <id>} is the run
 * {@code <id>.r<r>}, which shares round 1's import and shard (from wherever round 1 read them),
 * and whose teacher is round r-1's fine-tuned student taken as is: of the student's architecture,
 * whatever round 1's teacher was (a larger teacher teaches only round 1).
 *
 * <p>Why one place: {@code bin/semisup demo} loops over rounds in one JVM, while a scheduler
 * (Airflow, {@code deploy/yarn/submit.sh}) submits each stage of each round on its own with
 * {@code --round r}; both must name the runs and wire the teachers the same way.
 */
public final class Rounds {

  private Rounds() {}

  /** The run id of round {@code r} of run {@code firstRunId}. */
  public static String runId(String firstRunId, int r) {
    check(r);
    return r == 1 ? firstRunId : firstRunId + ".r" + r;
  }

  /**
   * The configuration of round {@code r}, given round 1's ({@code run-id} set); round 1 is
   * returned as is.
   */
  public static SemisupConfig configFor(SemisupConfig firstRound, int r) {
    check(r);
    if (r == 1) {
      return firstRound;
    }
    String first = firstRound.settings().run().runId();
    if (first.isEmpty()) {
      throw new IllegalArgumentException("Cannot name round " + r + " of a run without a run id: pass --run-id.");
    }
    Path previous = new Path(new Path(firstRound.settings().run().root(), runId(first, r - 1)), FinetuneStage.NAME);
    // Round 1's import and shard live in round 1, or in the run round 1 borrowed them from (an
    // ablation cell's base run).
    RunSettings run = firstRound.settings().run();
    String dataRun = !run.baseRun().isEmpty() && run.sharedStages().contains(ShardStage.NAME)
        && run.sharedStages().contains(ImportFashionMnistStage.NAME) ? run.baseRun() : first;
    return firstRound.with("run-id", runId(first, r))
        .with("base-run", dataRun)
        .with("shared-stages", List.of(ImportFashionMnistStage.NAME, ShardStage.NAME))
        .with("teacher.init-from", previous.toString())
        .with("model.teacher-architecture", firstRound.settings().model().studentArchitecture())
        .with("teacher.epochs", 0);
  }

  private static void check(int r) {
    if (r < 1) {
      throw new IllegalArgumentException("Cannot run round " + r + " of self-training: rounds count from 1.");
    }
  }
}
