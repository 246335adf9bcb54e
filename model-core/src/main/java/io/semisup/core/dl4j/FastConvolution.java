package io.semisup.core.dl4j;

import java.lang.reflect.Field;
import java.util.Arrays;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdDataAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdFilterAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.FwdAlgo;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Swaps DL4J's oneDNN convolution helper in a built graph for one that skips two computations
 * whose results DL4J's training step throws away; the convolutions themselves stay oneDNN's.
 *
 * <p>Why: in DL4J 1.0.0-M2.1, {@code ConvolutionLayer.backpropGradient} first recomputes the
 * layer's forward convolution only to pass it to its activation's derivative, which for an
 * identity activation (every convolution of our ResNets: batch norm and ReLU are separate
 * layers) ignores it; and libnd4j's {@code conv2d_bp} always computes the gradient of the input,
 * which for the convolution that reads the images nobody uses and which costs most there (see
 * {@link ConvWeightGradients}). Together these were about a third of resnet-small's oneDNN time
 * per training step. There is no configuration for either: DL4J creates the helper inside the
 * layer's constructor, so the swap writes the layer's {@code helper} field (as {@link
 * FastBatchNorm} does).
 *
 * <ul>
 *   <li>Identity activation: the backward pass's recomputation (recognised by its caller, {@code
 *       ConvolutionLayer.backpropGradient}) gets an uninitialized array of the forward output's
 *       shape, which the identity's derivative does not read.
 *   <li>A stride-1 NCHW convolution whose only input is a network input used by no other vertex,
 *       without preprocessor or dropout: its backward pass computes the weight and bias gradients
 *       with {@link ConvWeightGradients} and returns no input gradient (DL4J's graph skips null
 *       gradients and never reads an input vertex's). {@code ComputationGraph.backpropGradient}
 *       then has no gradient for that input, so install this only on graphs about to be trained.
 * </ul>
 *
 * <p>Gradients equal DL4J's to float rounding ({@code FastConvolutionTest}). Called with {@link
 * FastBatchNorm} by {@link TrainingKernels#install} when {@link Dl4jPatches} switched it on
 * (switch {@code fast-convolution}); the field and the caller it recognises are looked up there
 * ({@link #lookUp}), never in a static initialiser.
 */
final class FastConvolution implements PatchInstaller.Found {

  /** Largest scratch (floats) the weight-gradient kernel may use; larger layers keep oneDNN's. */
  static final long MAX_SCRATCH_FLOATS = 1L << 22;

  private final Field layerHelper;

  private FastConvolution(Field layerHelper) {
    this.layerHelper = layerHelper;
  }

  /**
   * Finds the DL4J internals the swap needs (the layer's helper field, the backward pass that
   * {@link Helper} recognises by name) and links the new helper; throws if DL4J differs.
   */
  static FastConvolution lookUp() throws ReflectiveOperationException {
    Field f = ConvolutionLayer.class.getDeclaredField("helper");
    f.setAccessible(true);
    if (Arrays.stream(ConvolutionLayer.class.getDeclaredMethods())
        .noneMatch(m -> m.getName().equals(Helper.CALLER))) {
      throw new NoSuchMethodException(ConvolutionLayer.class.getName() + "." + Helper.CALLER);
    }
    Class.forName(Helper.class.getName(), true, FastConvolution.class.getClassLoader());
    return new FastConvolution(f);
  }

  /**
   * Replaces the oneDNN helper of each plain convolution layer of {@code g} (layers without
   * helpers, other convolution types and already swapped layers are left as they are).
   *
   * @return how many layers now use the fast helper
   */
  int install(ComputationGraph g) {
    int fast = 0;
    for (GraphVertex v : g.getVertices()) {
      if (!(v instanceof LayerVertex lv) || lv.getLayer() == null
          || lv.getLayer().getClass() != ConvolutionLayer.class) {
        continue;
      }
      ConvolutionLayer layer = (ConvolutionLayer) lv.getLayer();
      try {
        Object helper = layerHelper.get(layer);
        if (helper instanceof Helper) {
          fast++;
        } else if (helper != null && helper.getClass() == MKLDNNConvHelper.class) {
          IActivation afn = layer.layerConf().getActivationFn();
          layerHelper.set(layer, new Helper(g.params().dataType(),
              afn instanceof ActivationIdentity, readsOnlyAnUnsharedInput(g, lv)));
          fast++;
        }
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("Cannot swap the convolution helper of DL4J layer " + v.getVertexName(), e);
      }
    }
    return fast;
  }

  /** Whether some convolution layer of {@code g} uses the fast helper. */
  boolean installedOn(ComputationGraph g) {
    for (Layer layer : g.getLayers()) {
      if (layer instanceof ConvolutionLayer && layer.getHelper() instanceof Helper) {
        return true;
      }
    }
    return false;
  }

  /** Whether the gradient of {@code lv}'s input is unused: a network input read by it alone. */
  static boolean readsOnlyAnUnsharedInput(ComputationGraph g, LayerVertex lv) {
    VertexIndices[] inputs = lv.getInputVertices();
    if (inputs == null || inputs.length != 1 || lv.getLayerPreProcessor() != null
        || lv.getLayer().conf().getLayer().getIDropout() != null) {
      return false;
    }
    GraphVertex in = g.getVertices()[inputs[0].getVertexIndex()];
    return in.isInputVertex() && in.getNumOutputConnections() == 1;
  }

  /** The oneDNN helper without the two unused computations. */
  static final class Helper extends MKLDNNConvHelper {

    /** The method of {@code ConvolutionLayer} whose forward recomputation is skipped. */
    static final String CALLER = "backpropGradient";

    private static final StackWalker STACK = StackWalker.getInstance();
    private static final String LAYER_CLASS = ConvolutionLayer.class.getName();

    private final boolean identityActivation;
    private final boolean inputGradientUnused;
    private long[] lastInputShape;
    private long[] lastOutputShape;
    private long recomputationsSkipped;
    private long inputGradientsSkipped;

    Helper(DataType dataType, boolean identityActivation, boolean inputGradientUnused) {
      super(dataType);
      this.identityActivation = identityActivation;
      this.inputGradientUnused = inputGradientUnused;
    }

    boolean inputGradientUnused() {
      return inputGradientUnused;
    }

    /** Backward passes that did not recompute the forward convolution. */
    long recomputationsSkipped() {
      return recomputationsSkipped;
    }

    /** Backward passes that did not compute the input gradient. */
    long inputGradientsSkipped() {
      return inputGradientsSkipped;
    }

    @Override
    public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel,
        int[] strides, int[] pad, AlgoMode mode, FwdAlgo fwdAlgo, ConvolutionMode convolutionMode,
        int[] dilation, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
      if (identityActivation && lastOutputShape != null
          && Arrays.equals(lastInputShape, input.shape()) && calledByBackprop()) {
        recomputationsSkipped++;
        return workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(), lastOutputShape);
      }
      INDArray out = super.preOutput(input, weights, bias, kernel, strides, pad, mode, fwdAlgo,
          convolutionMode, dilation, format, workspaceMgr);
      if (out != null) {
        lastInputShape = input.shape();
        lastOutputShape = out.shape();
      }
      return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias,
        INDArray delta, int[] kernel, int[] strides, int[] pad, INDArray biasGradView,
        INDArray weightGradView, IActivation afn, AlgoMode mode, BwdFilterAlgo bwdFilterAlgo,
        BwdDataAlgo bwdDataAlgo, ConvolutionMode convolutionMode, int[] dilation,
        CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
      if (!inputGradientUnused || format != CNN2DFormat.NCHW
          || !Arrays.equals(strides, new int[] {1, 1}) || !Arrays.equals(dilation, new int[] {1, 1})
          || !ConvWeightGradients.supports(input) || !ConvWeightGradients.supports(delta)
          || weightGradView.rank() != 4 || weightGradView.size(0) != delta.size(1)
          || weightGradView.size(1) != input.size(1)
          || ConvWeightGradients.scratchFloats(input, delta, weightGradView) > MAX_SCRATCH_FLOATS) {
        return super.backpropGradient(input, weights, bias, delta, kernel, strides, pad,
            biasGradView, weightGradView, afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode,
            dilation, format, workspaceMgr);
      }
      int[] topLeft = convolutionMode == ConvolutionMode.Same
          ? ConvolutionUtils.getSameModeTopLeftPadding(
              new int[] {(int) delta.size(2), (int) delta.size(3)},
              new int[] {(int) input.size(2), (int) input.size(3)}, kernel, strides, dilation)
          : pad;
      ConvWeightGradients.compute(input, delta, topLeft[0], topLeft[1], weightGradView, biasGradView);
      inputGradientsSkipped++;
      // What the parent returns, less the input gradient.
      Gradient g = new DefaultGradient();
      if (biasGradView != null) {
        g.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
      }
      g.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
      return new Pair<>(g, null);
    }

    /** Whether the current preOutput call is ConvolutionLayer.backpropGradient's recomputation. */
    private static boolean calledByBackprop() {
      return STACK.walk(frames -> frames.limit(6).anyMatch(
          f -> f.getMethodName().equals(CALLER) && f.getClassName().equals(LAYER_CLASS)));
    }
  }
}
