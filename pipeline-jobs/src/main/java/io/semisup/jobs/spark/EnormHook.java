package io.semisup.jobs.spark;

import io.semisup.core.enorm.EquiNormalizer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Runs one {@link EquiNormalizer} cycle after every minibatch a dl4j-spark worker fits, as
 * {@code LocalTrainer} does after each step (conf {@code enorm-c} &gt; 0).
 *
 * <p>Why a hook: the parameter-averaging worker rebuilds its network inside the executor, where
 * only training hooks reach it (as {@link TrainingKernelsHook}).
 *
 * <p>Parameter averaging: each replica is balanced on its own, so two replicas that compute
 * nearly the same function can hold it in different per-unit scales, and their average is not
 * the average of two functions in one basis. {@link SparkTrainer} therefore also runs a cycle on
 * the driver's averaged network after each fit, so every round starts balanced, and the
 * default (one replica for teacher, student and fine-tuning) averages nothing; with several
 * replicas and a long averaging period the mismatch grows, which is why averaging-frequency
 * should stay small when ENorm is on (not measured yet beyond the single-replica runs).
 */
final class EnormHook implements TrainingHook {

  private static final long serialVersionUID = 1L;

  private final double c;
  private transient ComputationGraph graph;
  private transient EquiNormalizer normalizer;

  EnormHook(double c) {
    this.c = c;
  }

  @Override
  public void preUpdate(DataSet minibatch, Model model) {}

  @Override
  public void preUpdate(MultiDataSet minibatch, Model model) {}

  @Override
  public void postUpdate(DataSet minibatch, Model model) {
    cycle(model);
  }

  @Override
  public void postUpdate(MultiDataSet minibatch, Model model) {
    cycle(model);
  }

  private void cycle(Model model) {
    if (!(model instanceof ComputationGraph g)) {
      return;
    }
    if (g != graph) { // each averaging round's network is a new instance
      graph = g;
      normalizer = new EquiNormalizer(g, c);
    }
    normalizer.cycle();
  }
}
