package io.semisup.core.dl4j;

import io.semisup.core.dl4j.Dl4jPatches.Patch;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * The one call that gives a graph about to be trained the kernels {@link Dl4jPatches} switched on:
 * {@link FastBatchNorm}, {@link FastConvolution} and {@link FastRelu}. A kernel that is off or fell
 * back is left out, and that part of the graph trains with stock DL4J.
 *
 * <p>Why one place: the graph is trained in two places, {@code LocalTrainer} and dl4j-spark's
 * workers (through a training hook), and both must train the same way.
 */
public final class TrainingKernels {

  private TrainingKernels() {}

  /**
   * Installs the kernels that are on in {@code g}; harmless on a graph that has them.
   *
   * @return how many layers now use them (0 before {@link Dl4jPatches#install} or with all off)
   */
  public static int install(ComputationGraph g) {
    PatchInstaller.Installation now = Dl4jPatches.current();
    int n = 0;
    if (now.on().get(Patch.FAST_BATCH_NORM) instanceof FastBatchNorm batchNorm) {
      n += batchNorm.install(g);
    }
    if (now.on().get(Patch.FAST_CONVOLUTION) instanceof FastConvolution convolution) {
      n += convolution.install(g);
    }
    if (now.on().containsKey(Patch.FAST_RELU)) {
      n += FastRelu.install(g);
    }
    return n;
  }

  /**
   * Leaves {@code g}'s configuration as DL4J built it (call before saving a trained graph): the
   * helpers stay, as they are not part of the configuration, and {@link FastRelu} goes.
   */
  public static void restoreConfiguration(ComputationGraph g) {
    if (Dl4jPatches.fastReluLinked()) {
      FastRelu.uninstall(g);
    }
  }

  /** Whether {@link #install} already gave {@code g} some kernel that is on now. */
  public static boolean installed(ComputationGraph g) {
    PatchInstaller.Installation now = Dl4jPatches.current();
    return now.on().get(Patch.FAST_BATCH_NORM) instanceof FastBatchNorm batchNorm && batchNorm.installedOn(g)
        || now.on().get(Patch.FAST_CONVOLUTION) instanceof FastConvolution convolution
            && convolution.installedOn(g)
        || now.on().containsKey(Patch.FAST_RELU) && FastRelu.installed(g);
  }
}
