package io.semisup.jobs.spark;

import io.semisup.jobs.config.ScoreSettings;
import java.io.Serializable;
import java.util.List;

/**
 * How executors run a scoring model: on which device, with how many threads per batch, and
 * whether an executor's tasks run their batches at the same time or take turns. Resolved once on
 * the driver from the {@code score} keys and Spark's cores per task, so every executor runs the
 * same way and a bad value fails before any task starts.
 *
 * <p>Why concurrent runs on the CPU: an executor's cores also decode and resize the next images.
 * When batches take turns with every core, ONNX Runtime's threads meet at a barrier after each
 * operator and wait there whenever a decode thread holds one of their cores; one single-threaded
 * run per task has no barrier to wait at. Measured in bench score (docs/benchmarks.md, session
 * 12). A GPU is one device whatever the number of tasks, so there batches take turns.
 *
 * @param threads ONNX Runtime intra-op threads of one batch; 0 = one per core of the machine
 * @param concurrent whether the executor's tasks may run batches at the same time
 */
public record ScoringEngine(boolean cuda, int threads, boolean concurrent)
    implements Serializable {

  /** Values of {@code score.engine-sharing}. */
  public static final List<String> SHARING = List.of("auto", "concurrent", "turns");

  public ScoringEngine {
    if (threads < 0) {
      throw new IllegalArgumentException("Cannot run inference with " + threads
          + " threads per batch (score.intra-op-threads): give 0 (automatic) or more");
    }
  }

  /** Taking turns with every core: tests, benchmarks and the DL4J reference engine. */
  public static ScoringEngine turns(boolean cuda, int threads) {
    return new ScoringEngine(cuda, threads, false);
  }

  /**
   * The engine the {@code score} keys ask for.
   *
   * @param score the {@code score} settings
   * @param taskCpus Spark's {@code spark.task.cpus}: the cores each concurrent run gets when
   *     {@code intra-op-threads} is 0
   */
  public static ScoringEngine from(ScoreSettings score, int taskCpus) {
    String sharing = score.engineSharing();
    if (!SHARING.contains(sharing)) {
      throw new IllegalArgumentException("Cannot share the scoring engine as '" + sharing
          + "': valid are " + SHARING + " (score.engine-sharing)");
    }
    boolean cuda = score.cuda();
    boolean concurrent = sharing.equals("concurrent") || (sharing.equals("auto") && !cuda);
    int threads = score.intraOpThreads();
    if (threads == 0 && concurrent) {
      threads = Math.max(1, taskCpus);
    }
    return new ScoringEngine(cuda, threads, concurrent);
  }
}
