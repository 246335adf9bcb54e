package io.semisup.core.dl4j;

import java.lang.reflect.Field;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.common.primitives.Pair;

/**
 * Swaps DL4J's oneDNN batch-norm helper in a built graph for one that computes the minibatch
 * statistics and the backward pass with {@link BatchNormKernels}; the normalization itself (oneDNN)
 * and the running averages (DL4J) stay as they were.
 *
 * <p>Why: in DL4J 1.0.0-M2.1 the oneDNN helper computes each training minibatch's per-channel
 * mean and variance with ND4J's generic reductions before handing them to oneDNN (about a fifth of
 * resnet-small's training time), and libnd4j's batch-norm backward adds ND4J broadcasts and
 * reductions to oneDNN's (about 15%); {@link BatchNormKernels} does both in two passes each. DL4J
 * creates helpers inside each layer's constructor with a hard-coded class, so there is no
 * configuration for this: the swap writes the layer's package-private {@code helper} field, and
 * the new helper keeps the minibatch statistics in its parent's private caches, which the
 * layer's running-average update reads. Same results to float rounding
 * ({@code FastBatchNormTest}). {@link TrainingKernels#install} gives it to every graph about to be
 * trained when {@link Dl4jPatches} switched it on (switch {@code fast-batch-norm}); the fields are
 * looked up there ({@link #lookUp}), never in a static initialiser, so another DL4J version falls
 * back to DL4J's own helper.
 */
final class FastBatchNorm implements PatchInstaller.Found {

  private final Field layerHelper;
  /** The parent helper's private statistics caches, which the layer's running averages read. */
  final Field meanCache;
  final Field varCache;

  private FastBatchNorm(Field layerHelper, Field meanCache, Field varCache) {
    this.layerHelper = layerHelper;
    this.meanCache = meanCache;
    this.varCache = varCache;
  }

  /** Finds the DL4J internals the swap needs and links the new helper; throws if DL4J differs. */
  static FastBatchNorm lookUp() throws ReflectiveOperationException {
    FastBatchNorm f = new FastBatchNorm(field(BatchNormalization.class, "helper"),
        field(MKLDNNBatchNormHelper.class, "meanCache"), field(MKLDNNBatchNormHelper.class, "varCache"));
    Class.forName(Helper.class.getName(), true, FastBatchNorm.class.getClassLoader());
    return f;
  }

  /**
   * Replaces the oneDNN helper of each batch-norm layer of {@code g} (a graph without helpers,
   * or already swapped, is left as is).
   *
   * @return how many layers now use the fast statistics
   */
  int install(ComputationGraph g) {
    int fast = 0;
    for (Layer layer : g.getLayers()) {
      if (layer instanceof BatchNormalization bn) {
        try {
          Object helper = layerHelper.get(bn);
          if (helper instanceof Helper) {
            fast++;
          } else if (helper != null && helper.getClass() == MKLDNNBatchNormHelper.class) {
            layerHelper.set(bn, newHelper(g.params().dataType()));
            fast++;
          }
        } catch (IllegalAccessException e) {
          throw new IllegalStateException("Cannot swap the batch-norm helper of DL4J " + layer, e);
        }
      }
    }
    return fast;
  }

  /** A helper with the fast statistics, for layers of {@code dataType}. */
  Helper newHelper(DataType dataType) {
    return new Helper(dataType, meanCache, varCache);
  }

  /** Whether some batch-norm layer of {@code g} already uses the fast statistics. */
  boolean installedOn(ComputationGraph g) {
    for (Layer layer : g.getLayers()) {
      if (layer instanceof BatchNormalization && layer.getHelper() instanceof Helper) {
        return true;
      }
    }
    return false;
  }

  private static Field field(Class<?> owner, String name) throws NoSuchFieldException {
    Field f = owner.getDeclaredField(name);
    f.setAccessible(true);
    return f;
  }

  /** The oneDNN helper with the training statistics computed by {@link BatchNormKernels}. */
  static final class Helper extends MKLDNNBatchNormHelper {

    private final Field meanCache;
    private final Field varCache;

    Helper(DataType dataType, Field meanCache, Field varCache) {
      super(dataType);
      this.meanCache = meanCache;
      this.varCache = varCache;
    }

    @Override
    public INDArray preOutput(INDArray x, boolean training, long[] shape, INDArray gamma,
        INDArray beta, INDArray mean, INDArray var, double decay, double eps, CNN2DFormat format,
        LayerWorkspaceMgr workspaceMgr) {
      if (!training || format != CNN2DFormat.NCHW || !BatchNormKernels.supports(x)) {
        return super.preOutput(x, training, shape, gamma, beta, mean, var, decay, eps, format,
            workspaceMgr);
      }
      INDArray batchMean = cache(meanCache, x);
      INDArray batchVar = cache(varCache, x);
      BatchNormKernels.meanAndVariance(x, batchMean, batchVar);
      // With training = false the parent normalizes with the statistics it is given.
      return super.preOutput(x, false, shape, gamma, beta, batchMean, batchVar, decay, eps, format,
          workspaceMgr);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, long[] shape,
        INDArray gamma, INDArray beta, INDArray dGammaView, INDArray dBetaView, double eps,
        CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
      INDArray batchMean = cached(meanCache);
      INDArray batchVar = cached(varCache);
      if (format != CNN2DFormat.NCHW || gamma == null || dGammaView == null || dBetaView == null
          || batchMean == null || batchVar == null || batchMean.length() != input.size(1)
          || !BatchNormKernels.supports(input) || !BatchNormKernels.supports(epsilon)) {
        return super.backpropGradient(input, epsilon, shape, gamma, beta, dGammaView, dBetaView,
            eps, format, workspaceMgr);
      }
      // What the parent returns: dL/dx in the activation-gradient workspace, the gamma and beta
      // gradients written into the layer's gradient views.
      INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, input.dataType(), input.shape());
      BatchNormKernels.backward(input, epsilon, batchMean, batchVar, gamma, eps, dx,
          dGammaView, dBetaView);
      Gradient g = new DefaultGradient();
      g.setGradientFor("gamma", dGammaView);
      g.setGradientFor("beta", dBetaView);
      return new Pair<>(g, dx);
    }

    private INDArray cached(Field field) {
      try {
        return (INDArray) field.get(this);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("Cannot reach DL4J's batch-norm statistics cache", e);
      }
    }

    /** The parent's cache array for x's channels, allocated outside any workspace once. */
    private INDArray cache(Field field, INDArray x) {
      try {
        INDArray a = (INDArray) field.get(this);
        if (a == null || a.length() != x.size(1) || a.dataType() != x.dataType()) {
          try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            a = Nd4j.createUninitialized(x.dataType(), x.size(1));
          }
          field.set(this, a);
        }
        return a;
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("Cannot reach DL4J's batch-norm statistics cache", e);
      }
    }
  }
}
