package io.semisup.core.train;

import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * The one call that gives a graph about to be trained every faster kernel of this package:
 * {@link FastBatchNorm}, {@link FastConvolution} and {@link FastRelu}.
 *
 * <p>Why one place: the graph is trained in two places, {@link LocalTrainer} and dl4j-spark's
 * workers (through a training hook), and both must train the same way.
 */
public final class TrainingKernels {

  private TrainingKernels() {}

  /**
   * Installs the kernels on {@code g}; harmless on a graph that has them.
   *
   * @return how many layers now use them
   */
  public static int install(ComputationGraph g) {
    return FastBatchNorm.install(g) + FastConvolution.install(g) + FastRelu.install(g);
  }

  /**
   * Leaves {@code g}'s configuration as DL4J built it (call before saving a trained graph): the
   * helpers stay, as they are not part of the configuration, and {@link FastRelu} goes.
   */
  public static void restoreConfiguration(ComputationGraph g) {
    FastRelu.uninstall(g);
  }

  /** Whether {@link #install} already ran on {@code g} (with some kernel enabled). */
  public static boolean installed(ComputationGraph g) {
    return FastBatchNorm.installed(g) || FastConvolution.installed(g) || FastRelu.installed(g);
  }
}
