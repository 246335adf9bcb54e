package io.semisup.jobs.spark;

import io.semisup.core.dl4j.Dl4jPatches;
import io.semisup.core.dl4j.TrainingKernels;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Installs the driver's DL4J patches ({@link Dl4jPatches}) in each dl4j-spark executor JVM and
 * gives the network each worker trains the kernels that are on ({@link TrainingKernels}) before
 * its first minibatch.
 *
 * <p>Why a hook: dl4j-spark's parameter-averaging worker rebuilds its network from the broadcast
 * configuration inside the executor, where only training hooks can reach it. The hook travels in
 * the worker, which Spark deserializes with each task before the worker builds its network, so
 * installing on deserialization switches DL4J's native helpers on in time (they are chosen when a
 * layer is built); the executor installs the driver's options, so both train the same way.
 */
final class TrainingKernelsHook implements TrainingHook {

  private static final long serialVersionUID = 2L;

  /** Graphs given the kernels in this JVM (executors: their own count). */
  private static final AtomicLong INSTALLED = new AtomicLong();

  private final Dl4jPatches.Options options;

  /** A hook that installs {@code options} (the driver's) in each executor. */
  TrainingKernelsHook(Dl4jPatches.Options options) {
    this.options = Objects.requireNonNull(options, "options");
  }

  static long graphsInstalled() {
    return INSTALLED.get();
  }

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    Dl4jPatches.install(options); // once per executor JVM; later tasks find it installed
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
