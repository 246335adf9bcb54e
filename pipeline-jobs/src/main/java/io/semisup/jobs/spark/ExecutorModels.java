package io.semisup.jobs.spark;

import io.semisup.core.scoring.Scorer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.broadcast.Broadcast;

/**
 * One model per executor JVM, not one per task: loading a model and warming its engine costs
 * seconds, and an executor runs thousands of tasks. Keyed by model id; the bytes arrive once per
 * executor through a broadcast.
 */
public final class ExecutorModels {

  private static final Map<String, Scorer> SCORERS = new ConcurrentHashMap<>();

  private ExecutorModels() {}

  /**
   * The executor's scorer for a model. It is shared by the executor's task threads, so callers
   * synchronize on it around inference (the engine already uses every core for one batch).
   */
  public static Scorer scorer(Broadcast<ScoringModel> model) {
    ScoringModel m = model.value();
    return SCORERS.computeIfAbsent(m.modelId(), id -> m.open());
  }
}
