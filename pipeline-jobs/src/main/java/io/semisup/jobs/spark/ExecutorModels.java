package io.semisup.jobs.spark;

import io.semisup.core.model.ModelBundle;
import io.semisup.core.scoring.Dl4jScorer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.broadcast.Broadcast;

/**
 * One model per executor JVM, not one per task: deserializing a model and warming ND4J costs
 * seconds, and an executor runs thousands of tasks. Keyed by model id; the bytes arrive once per
 * executor through a broadcast.
 */
public final class ExecutorModels {

  private static final Map<String, Dl4jScorer> SCORERS = new ConcurrentHashMap<>();

  private ExecutorModels() {}

  /**
   * The executor's scorer for a model. The scorer is shared by the executor's task threads, so
   * callers synchronize on it around inference (ND4J already uses every core for one batch).
   */
  public static Dl4jScorer scorer(String modelId, Broadcast<byte[]> bundleBytes) {
    return SCORERS.computeIfAbsent(modelId, id -> Dl4jScorer.of(ModelBundle.fromBytes(bundleBytes.value())));
  }

  /** Frees a model (driver-side use in local mode, tests). */
  public static void evict(String modelId) {
    Dl4jScorer s = SCORERS.remove(modelId);
    if (s != null) {
      s.close();
    }
  }
}
