package io.semisup.jobs.spark;

import io.semisup.core.train.TrainingKernels;
import java.util.concurrent.atomic.AtomicLong;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Gives the network each dl4j-spark worker trains the kernels of {@link TrainingKernels} (fast
 * batch-norm statistics, convolution backward passes without unused work) before its first
 * minibatch.
 *
 * <p>Why a hook: dl4j-spark's parameter-averaging worker rebuilds its network from the broadcast
 * configuration inside the executor, where only training hooks can reach it.
 */
final class TrainingKernelsHook implements TrainingHook {

  private static final long serialVersionUID = 1L;

  /** Graphs given the kernels in this JVM (executors: their own count). */
  private static final AtomicLong INSTALLED = new AtomicLong();

  static long graphsInstalled() {
    return INSTALLED.get();
  }

  @Override
  public void preUpdate(DataSet minibatch, Model model) {
    install(model);
  }

  @Override
  public void preUpdate(MultiDataSet minibatch, Model model) {
    install(model);
  }

  @Override
  public void postUpdate(DataSet minibatch, Model model) {}

  @Override
  public void postUpdate(MultiDataSet minibatch, Model model) {}

  private static void install(Model model) {
    if (model instanceof ComputationGraph g && !TrainingKernels.installed(g) && TrainingKernels.install(g) > 0) {
      INSTALLED.incrementAndGet();
    }
  }
}
