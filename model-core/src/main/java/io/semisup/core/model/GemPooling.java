package io.semisup.core.model;

import java.util.Collection;
import java.util.Map;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.NoParamLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.params.EmptyParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Generalized-mean (GeM) global pooling, the pooling of MultiGrain (Berman et al.,
 * arXiv:1902.05509) and of Radenovic et al.'s retrieval networks: for each channel of an NCHW
 * activation, {@code (mean_{h,w} max(x, eps)^p)^(1/p)}. p = 1 is average pooling, p -> infinity
 * max pooling; p = 3 is the papers' default and gives embeddings that retrieve altered copies
 * of an image better than the average.
 *
 * <p>Why a layer of our own: DL4J's {@code GlobalPoolingLayer} PNORM computes
 * {@code (sum |x|^p)^(1/p)}, a sum, so its output grows with the resolution and a model trained
 * at one input size is off at another; this one takes the mean, like the papers. p is fixed
 * (not learned). The output is {@code [N, C]}, as {@code GlobalPoolingLayer} with collapsed
 * dimensions, so it drops in where average pooling was. DL4J serializes the configuration (and
 * {@code ModelBundle} saves and loads it) by class name through Jackson, hence the no-argument
 * constructor and the setter.
 */
public class GemPooling extends NoParamLayer {

  /** Values are clamped to at least this before the power, as in the papers. */
  public static final double EPS = 1e-6;

  private double p = 3.0;

  /** For Jackson; p = 3. */
  public GemPooling() {}

  /** GeM pooling with exponent {@code p} (>= 1). */
  public GemPooling(double p) {
    setP(p);
  }

  public double getP() {
    return p;
  }

  public void setP(double p) {
    if (!(p >= 1) || Double.isInfinite(p)) {
      throw new IllegalArgumentException("Cannot pool with GeM exponent " + p + ": need a finite p >= 1");
    }
    this.p = p;
  }

  @Override
  public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
      Collection<TrainingListener> listeners, int layerIndex, INDArray params, boolean initParams,
      DataType dataType) {
    GemPoolingLayer layer = new GemPoolingLayer(conf, dataType);
    layer.setListeners(listeners);
    layer.setIndex(layerIndex);
    layer.setParamsViewArray(params);
    Map<String, INDArray> table = initializer().init(conf, params, initParams);
    layer.setParamTable(table);
    layer.setConf(conf);
    return layer;
  }

  @Override
  public ParamInitializer initializer() {
    return EmptyParamInitializer.getInstance();
  }

  @Override
  public InputType getOutputType(int layerIndex, InputType inputType) {
    if (!(inputType instanceof InputType.InputTypeConvolutional c)) {
      throw new IllegalArgumentException("Cannot GeM-pool layer " + layerIndex + " '"
          + getLayerName() + "': its input is " + inputType + ", not convolutional (NCHW)");
    }
    return InputType.feedForward(c.getChannels());
  }

  @Override
  public void setNIn(InputType inputType, boolean override) {
    // no parameters: nothing to size
  }

  @Override
  public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
    return null;
  }

  @Override
  public boolean isPretrainParam(String paramName) {
    return false;
  }

  @Override
  public LayerMemoryReport getMemoryReport(InputType inputType) {
    InputType out = getOutputType(-1, inputType);
    long working = inputType.arrayElementsPerExample() * 2;
    return new LayerMemoryReport.Builder(getLayerName(), GemPooling.class, inputType, out)
        .standardMemory(0, 0)
        .workingMemory(0, working, 0, working)
        .cacheMemory(0, 0)
        .build();
  }

  @Override
  public String toString() {
    return "GemPooling(p=" + p + ")";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GemPooling g && super.equals(o) && g.p == p;
  }

  @Override
  public int hashCode() {
    return 31 * super.hashCode() + Double.hashCode(p);
  }
}
