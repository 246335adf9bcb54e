package io.semisup.core.dl4j;

import java.util.Arrays;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The plain ReLU of an {@link ActivationLayer}, with its backward pass as two vectorized native
 * ops (in := in &gt; 0 ? 1 : 0, then in *= epsilon) in place of libnd4j's ReLU derivative, which
 * calls a {@code std::function} per element: 6.3 ms against 1.4 ms for a [128, 16, 28, 28] tensor
 * on one core, about 9% of resnet-small's training step. Same values (a product by exactly 1 or 0).
 *
 * <p>It overwrites its input, which {@code ActivationLayer.backpropGradient} passes as a copy made
 * for this purpose, so {@link #install} gives it only to activation layers, and only for training:
 * the configuration then names this class, so {@link #uninstall} puts DL4J's ReLU back before a
 * trained graph is saved ({@link TrainingKernels#restoreConfiguration}, which {@code LocalTrainer}
 * calls; dl4j-spark workers train throwaway copies). {@link TrainingKernels#install} gives it when
 * {@link Dl4jPatches} switched it on (switch {@code fast-relu}).
 */
public final class FastRelu extends ActivationReLU {

  private static final long serialVersionUID = 1L;

  @Override
  public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
    if (in.dataType() != epsilon.dataType() || !Arrays.equals(in.shape(), epsilon.shape())) {
      return super.backprop(in, epsilon); // its error names the shapes
    }
    Nd4j.exec(new Step(in, in, 0.0));
    return new Pair<>(in.muli(epsilon), null);
  }

  /**
   * Links what {@link #install} calls of DL4J (this class's parent, its getters, the layer's
   * setter); throws if DL4J differs.
   */
  static PatchInstaller.Found lookUp() throws ReflectiveOperationException {
    ActivationLayer.class.getMethod("setActivationFn", IActivation.class);
    plain(new FastRelu());
    return new PatchInstaller.Found() {};
  }

  /**
   * Gives each activation layer of {@code g} with a plain ReLU (no cap, threshold or slope) this
   * one.
   *
   * @return how many activation layers now use it
   */
  static int install(ComputationGraph g) {
    int fast = 0;
    for (ActivationLayer conf : activationLayers(g)) {
      IActivation afn = conf.getActivationFn();
      if (afn instanceof FastRelu) {
        fast++;
      } else if (afn != null && afn.getClass() == ActivationReLU.class && plain((ActivationReLU) afn)) {
        conf.setActivationFn(new FastRelu());
        fast++;
      }
    }
    return fast;
  }

  /** Whether some activation layer of {@code g} uses this ReLU. */
  static boolean installed(ComputationGraph g) {
    for (ActivationLayer conf : activationLayers(g)) {
      if (conf.getActivationFn() instanceof FastRelu) {
        return true;
      }
    }
    return false;
  }

  /** Puts DL4J's own ReLU back where {@link #install} put this one; returns how many. */
  static int uninstall(ComputationGraph g) {
    int n = 0;
    for (ActivationLayer conf : activationLayers(g)) {
      if (conf.getActivationFn() instanceof FastRelu) {
        conf.setActivationFn(new ActivationReLU());
        n++;
      }
    }
    return n;
  }

  private static boolean plain(ActivationReLU r) {
    return isZeroOrNull(r.getMax()) && isZeroOrNull(r.getThreshold()) && isZeroOrNull(r.getNegativeSlope());
  }

  private static boolean isZeroOrNull(Double d) {
    return d == null || d == 0.0;
  }

  private static Iterable<ActivationLayer> activationLayers(ComputationGraph g) {
    java.util.List<ActivationLayer> out = new java.util.ArrayList<>();
    for (GraphVertex v : g.getVertices()) {
      if (v.hasLayer() && v.getLayer().conf().getLayer() instanceof ActivationLayer a) {
        out.add(a);
      }
    }
    return out;
  }
}
