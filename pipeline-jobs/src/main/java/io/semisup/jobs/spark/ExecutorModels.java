package io.semisup.jobs.spark;

import io.semisup.core.scoring.Scorer;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model per executor JVM, not one per task: loading a model and warming its engine costs
 * seconds (a ResNet-50 is 100 MB of ONNX), and an executor runs thousands of tasks. Keyed by the
 * model's digest; the bytes arrive once per executor through a broadcast. The few most recently
 * used engines stay open (a run scores with one teacher, evaluation with three models); older
 * ones are closed, so a long-lived JVM (tests, notebooks) does not pile up native sessions.
 */
public final class ExecutorModels {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);

  /** Engines kept open per JVM: evaluation's teacher, student and fine-tuned model. */
  private static final int KEEP = 3;

  /** Access-ordered, so the eldest entry is the least recently used. */
  private static final Map<String, Scorer> SCORERS = new LinkedHashMap<>(8, 0.75f, true);

  private ExecutorModels() {}

  /**
   * The executor's scorer for a model. It is shared by the executor's task threads: callers
   * synchronize on it around inference unless {@link ScoringModel#runsConcurrently} allows runs
   * at the same time.
   */
  public static Scorer scorer(Broadcast<ScoringModel> model) {
    return scorer(model.value());
  }

  /** As {@link #scorer(Broadcast)}, for a model already at hand (benchmarks, tests). */
  public static synchronized Scorer scorer(ScoringModel m) {
    Scorer s = SCORERS.get(m.digest());
    if (s == null) {
      long t0 = System.nanoTime();
      s = m.open();
      SCORERS.put(m.digest(), s);
      LOG.info("Opened {} on {} in {} ms", m.modelId(), m.backend(),
          (System.nanoTime() - t0) / 1_000_000);
      evict();
    }
    return s;
  }

  private static void evict() {
    Iterator<Map.Entry<String, Scorer>> it = SCORERS.entrySet().iterator();
    while (SCORERS.size() > KEEP && it.hasNext()) {
      Scorer old = it.next().getValue();
      it.remove();
      // Tasks taking turns hold its lock while inferring, and a concurrent engine waits for its
      // runs in close(): either way it closes once they are done.
      synchronized (old) {
        old.close();
      }
    }
  }
}
